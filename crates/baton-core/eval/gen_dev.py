import json
cases=[]
def C(id, desc, expect, turns, handoff_turn=None, capacity=None):
    """turns: list of batches; a batch is a list of tuples/strings.
    'c:text' customer, 'b:text' bot, ('n', intent, conf) nlu, ('h', {...}) handoff_requested"""
    batches=[]
    split=[]
    for t in turns:
        cur=[]
        for e in t:
            if isinstance(e,tuple) and e[0]==BOT:
                split.append(cur); cur=['b:'+e[1]]
            else: cur.append(e)
        split.append(cur)
    for t in split:
        b=[]
        for e in t:
            if isinstance(e,str):
                kind,text=e.split(':',1)
                b.append({"type":{"c":"customer_message","b":"bot_message"}[kind],"text":text.strip()})
            elif e[0]=='n':
                b.append({"type":"nlu","intent":e[1],"confidence":e[2]})
            elif e[0]=='h':
                b.append(dict({"type":"handoff_requested"},**e[1]))
        batches.append(b)
    c={"id":id,"description":desc,"expect":expect}
    if handoff_turn: c["handoff_turn"]=handoff_turn
    if capacity: c["capacity"]=capacity
    c["batches"]=batches
    cases.append(c)

BOT='BOT'
def turn(cust, intent, conf, bot=None):
    b=['c:'+cust, ('n',intent,conf)]
    if bot: b.append((BOT,bot))
    return b

# --- happy paths
C("happy-track","order tracking answered, customer thanks","continue",[
 turn("Hi, where is my order 48213?","track_order",0.94,"Order 48213 left our warehouse today and arrives Thursday."),
 turn("Great, thank you!","thanks",0.97,"You're welcome!")])
C("happy-password","password reset walk-through","continue",[
 turn("I forgot my password","recover_password",0.91,"I sent a reset link to your email."),
 turn("got it, the link worked","confirm",0.88,"Glad to hear it. Anything else?"),
 turn("no that's all, thanks","goodbye",0.9,"Have a nice day!")])
C("happy-invoice","invoice download","continue",[
 turn("can I get the invoice for my last purchase","get_invoice",0.89,"Here is the PDF of invoice INV-2231."),
 turn("perfect","thanks",0.8)])
C("happy-address","shipping address change","continue",[
 turn("I need to change the shipping address on order 5521","change_shipping_address",0.87,"Sure, what is the new address?"),
 turn("12 Rose Street, Leeds LS1 4AB","provide_address",0.82,"Done, the order will go to 12 Rose Street."),
 turn("thanks a lot","thanks",0.95)])
C("happy-hours","opening hours question","continue",[
 turn("what are your opening hours on Sunday?","store_hours",0.96,"We are open 10:00-16:00 on Sundays.")])
C("happy-refund-policy","refund policy question with follow-up","continue",[
 turn("what's your refund policy?","check_refund_policy",0.9,"You can return items within 30 days for a full refund."),
 turn("and do I pay for the return shipping?","check_refund_policy",0.78,"No, returns are free."),
 turn("nice, thanks","thanks",0.93)])
C("happy-newsletter","unsubscribe from newsletter","continue",[
 turn("please unsubscribe me from the newsletter","newsletter_subscription",0.92,"Done, you will receive no more newsletters.")])
C("happy-cancel","order cancellation completed","continue",[
 turn("I'd like to cancel order 7781","cancel_order",0.9,"Order 7781 is cancelled and you'll be refunded in 3-5 days."),
 turn("ok good","ack",0.7)])
C("happy-payment-methods","payment methods","continue",[
 turn("do you accept paypal?","check_payment_methods",0.93,"Yes, we accept PayPal, cards and bank transfer."),
 turn("cool thanks","thanks",0.9)])
C("happy-account","create account with a question","continue",[
 turn("how do I create an account","create_account",0.91,"Tap Sign up and enter your email."),
 turn("do I need a phone number too?","create_account",0.66,"No, an email is enough."),
 turn("alright, done. thanks!","thanks",0.92)])
C("happy-mild-complaint","mildly annoyed but resolved","continue",[
 turn("my parcel is a day late, a bit annoying","delivery_period",0.85,"Sorry about that. It is out for delivery today."),
 turn("ok, fine, thanks for checking","thanks",0.9)])

# --- explicit requests
C("explicit-plain","plain request for a human on the first message","handoff",[turn("I want to talk to a human","contact_human_agent",0.93)],1)
C("explicit-later","request after two bot answers","handoff",[
 turn("my refund hasn't arrived","track_refund",0.81,"Refunds take 5-7 business days."),
 turn("it's been 10 days already","track_refund",0.62,"Refunds take 5-7 business days."),
 turn("can I speak with someone from your team please","contact_human_agent",0.88)],3)
C("explicit-typos","request with typos","handoff",[turn("i need assistance speakign to a human agent","contact_human_agent",0.7)],1)
C("explicit-supervisor","asks for a supervisor","handoff",[
 turn("I was double charged","payment_issue",0.84,"I see two charges; one is a pre-authorisation that will drop off."),
 turn("I want your supervisor on this now","contact_human_agent",0.55)],2)
C("explicit-bare-shout","bare shouted keyword after a failed answer","handoff",[
 turn("the app crashes when I pay","payment_issue",0.58,"Please try updating the app."),
 turn("REPRESENTATIVE","contact_human_agent",0.9)],2)
C("explicit-spanish","request in Spanish","handoff",[turn("Hola, quiero hablar con un agente por favor","contact_human_agent",0.6)],1)
C("explicit-connect","connect me with a real person","handoff",[
 turn("hi","greeting",0.95,"Hello! How can I help?"),
 turn("connect me with a real person","contact_human_agent",0.9)],2)
C("explicit-cant-reach","complains they can't reach anyone","handoff",[turn("I can't speak to a live agent anywhere on your site, help me talk to one","contact_human_agent",0.8)],1)
C("explicit-after-no-bot","don't want a bot, wants a human","handoff",[turn("I don't want a bot, I want a human","contact_human_agent",0.9)],1)

# --- gaming
C("gaming-offer-password","keyword on routine confident intent: offer","offer",[
 turn("reset password agent","recover_password",0.95,"I can reset your password right now, or connect you to a person. Which do you prefer?"),
 turn("ok do it here then","confirm",0.8,"Reset link sent.")])
C("gaming-offer-track","keyword appended to order tracking: offer, customer accepts bot","offer",[
 turn("where is my order 99812 human","track_order",0.92,"Order 99812 arrives tomorrow. I can also connect you to a person if you like."),
 turn("no that's fine, thanks","thanks",0.9)])
C("gaming-insist","keyword, offer, then insists with keyword","handoff",[
 turn("change delivery address agent","change_shipping_address",0.9,"I can change it now or connect you. Which do you prefer?"),
 turn("agent","contact_human_agent",0.9)],2)
C("gaming-accept","keyword, offer, says yes","handoff",[
 turn("invoice representative","get_invoice",0.88,"I can send the invoice now, or connect you to a person. Want a person?"),
 turn("yes please","confirm",0.9)],2)
C("gaming-not-calm","keyword on routine intent but angry: hand off","handoff",[
 turn("I HATE THIS STUPID APP, reset my password, AGENT!!","recover_password",0.9)],1)
C("gaming-low-confidence","keyword where the bot is unsure: hand off","handoff",[
 turn("billing thing agent","payment_issue",0.45)],1)
C("gaming-insist-sentence","offer, then insists in full sentence","handoff",[
 turn("track my order, operator","track_order",0.93,"Your order arrives Friday. Or shall I connect you to a person?"),
 turn("I said I want to talk to a person","contact_human_agent",0.8)],2)

# --- negations and non-requests
C("neg-no-need","no need for a human","continue",[
 turn("no need for a human, just tell me the delivery date","delivery_period",0.86,"It arrives on Tuesday."),
 turn("thanks","thanks",0.9)])
C("neg-dont-transfer","please don't transfer me","continue",[
 turn("please don't transfer me to an agent, I just need the tracking link","track_order",0.85,"Here's your tracking link.")])
C("neg-travel-agent","my travel agent","continue",[
 turn("my travel agent booked the flight, can I change the seat?","change_order",0.81,"Yes, choose a new seat under Manage booking."),
 turn("found it, thanks","thanks",0.9)])
C("neg-are-you-human","asks whether the bot is human","continue",[
 turn("are you a human?","bot_identity",0.9,"I'm the virtual assistant. How can I help?"),
 turn("ok, I need to update my email","edit_account",0.88,"Sure, go to Settings > Account."),
 turn("done thanks","thanks",0.93)])
C("neg-without","without talking to a person","continue",[
 turn("can I get a refund without talking to a person?","get_refund",0.87,"Yes, you can request it online in Orders.")])
C("neg-past-agent","mentions a past agent conversation","continue",[
 turn("I was talking to an agent yesterday and he said my refund is approved, when will it arrive?","track_refund",0.84,"Approved refunds arrive in 3-5 days."),
 turn("good, thanks","thanks",0.92)])
C("neg-someone-else","someone else's card","continue",[
 turn("can I pay with someone else's card?","check_payment_methods",0.8,"Yes, as long as the cardholder authorises it.")])
C("neg-customer-service-hours","asks for customer service hours (not a request)","continue",[
 turn("what hours can I call customer service?","contact_customer_service",0.9,"Phone lines are open 8:00-20:00.")])

# --- non-English politeness
C("intl-french","polite French thanks","continue",[
 turn("Bonjour, où est ma commande 4412 ?","track_order",0.8,"Votre commande arrive demain."),
 turn("Merci beaucoup, très gentil","thanks",0.85)])
C("intl-german","polite German","continue",[
 turn("Guten Tag, ich möchte meine Adresse ändern","change_shipping_address",0.82,"Gerne, wie lautet die neue Adresse?"),
 turn("Hauptstraße 5, Berlin. Vielen Dank!","provide_address",0.8,"Erledigt."),
 turn("Danke schön, schönen Tag noch","thanks",0.9)])
C("intl-spanish","polite Spanish","continue",[
 turn("Hola, ¿cuándo llega mi pedido?","delivery_period",0.84,"Llega el jueves."),
 turn("Muchas gracias, muy amable","thanks",0.9)])
C("intl-japanese","polite Japanese","continue",[
 turn("注文の配送状況を教えてください","track_order",0.78,"明日届きます。"),
 turn("ありがとうございます","thanks",0.9)])
C("intl-portuguese","polite Portuguese","continue",[
 turn("Olá, gostaria de cancelar minha assinatura","cancel_order",0.8,"Pronto, cancelada."),
 turn("Obrigado pela ajuda!","thanks",0.9)])

# --- loops
C("loop-rephrase","customer rephrases, bot repeats the same answer","handoff",[
 turn("I want to cancel my gym membership","cancel_membership",0.6,"You can manage your plan in the app under Settings."),
 turn("no, I want to cancel the gym membership itself","cancel_membership",0.6,"You can manage your plan in the app under Settings."),
 turn("how do I cancel my gym membership completely","cancel_membership",0.6,"You can manage your plan in the app under Settings.")],3)
C("loop-bot-repeats","bot gives the same answer three times","handoff",[
 turn("my discount code doesn't work","promo_code",0.7,"Make sure the code is typed in capitals and not expired."),
 turn("it is in capitals and valid until December","promo_code",0.65,"Make sure the code is typed in capitals and not expired."),
 turn("I did exactly that","promo_code",0.6,"Make sure the code is typed in capitals and not expired."),
 turn("so what now","promo_code",0.55,"Make sure the code is typed in capitals and not expired.")],4)
C("loop-same-question","same question asked again and again","handoff",[
 turn("why was I charged twice for order 3391?","payment_issue",0.7,"Charges can take a few days to appear."),
 turn("why was I charged twice for order 3391","payment_issue",0.7,"Charges can take a few days to appear."),
 turn("I am asking why was I charged twice for order 3391","payment_issue",0.7,"Charges can take a few days to appear.")],3)
C("loop-multi-step-ok","similar words in a healthy multi-step flow (not a loop)","continue",[
 turn("I want to return the blue shoes from order 1203","return_item",0.88,"Sure. Which size were they?"),
 turn("size 42, the blue running shoes","provide_info",0.8,"Thanks. I've created return label RL-55."),
 turn("and can I also return the red shoes from order 1203?","return_item",0.86,"Yes, label RL-56 is ready too."),
 turn("great, thanks!","thanks",0.95)])

# --- low confidence
C("lowconf-fallbacks","three fallbacks in a row","handoff",[
 turn("the thing with my plan rollover","nlu_fallback",0.2,"Sorry, I didn't get that."),
 turn("the rollover of unused minutes","nlu_fallback",0.25,"Sorry, I didn't get that."),
 turn("unused minutes to next month","nlu_fallback",0.3)],3)
C("lowconf-low-scores","three low-confidence intents","handoff",[
 turn("my meter reading looks weird","billing_question",0.35,"Can you say more?"),
 turn("it shows double the usual","billing_question",0.4,"Can you say more?"),
 turn("double usage since March","usage_question",0.3)],3)
C("lowconf-recovers","two low results then understood: no handoff","continue",[
 turn("I need the thingy for taxes","nlu_fallback",0.2,"Sorry, could you rephrase?"),
 turn("tax document","get_invoice",0.45,"Do you mean your annual statement?"),
 turn("yes the annual statement","get_invoice",0.9,"Here it is: statement-2025.pdf"),
 turn("perfect thanks","thanks",0.95)])
C("lowconf-oos","out of scope repeatedly","handoff",[
 turn("can you book me a table for two","oos",0.9,"I can only help with your account."),
 turn("restaurant reservation for tonight","oos",0.9,"I can only help with your account."),
 turn("just a table please","oos",0.9)],3)

# --- anger
C("anger-third-time","third time writing, shouting","handoff",[
 turn("my package still hasn't arrived","track_order",0.85,"It is on its way."),
 turn("THIS IS THE THIRD TIME I'M WRITING ABOUT THIS!!","track_order",0.8)],2)
C("anger-insults","insults the bot","handoff",[
 turn("where's my refund","track_refund",0.8,"Refunds take 5-7 days."),
 turn("you are a useless, stupid bot","complaint",0.7)],2)
C("anger-escalating","sentiment falls steadily","handoff",[
 turn("Hi, my internet is slow today","connectivity",0.8,"Please restart your router."),
 turn("I restarted it, still slow","connectivity",0.75,"Please restart your router."),
 turn("this is really bad, I work from home and can't do anything","connectivity",0.7,"I'm sorry to hear that."),
 turn("terrible service, I'm furious and losing money","complaint",0.7)],4)
C("anger-sustained-negative","negative from the start","handoff",[
 turn("I'm very disappointed, the product arrived broken","damaged_item",0.85,"Sorry! I can send a replacement."),
 turn("this is awful, the replacement was broken too, horrible","damaged_item",0.8)],2)
C("anger-single-sour","one sour message then calm (no handoff)","continue",[
 turn("ugh, annoying, the app logged me out","login_issue",0.85,"Please sign in again; your data is safe."),
 turn("ok that worked","ack",0.8,"Great!"),
 turn("thanks","thanks",0.9)])

# --- risk
C("risk-fraud-intent","fraud intent first message","handoff",[turn("there are transactions on my card I didn't do","card_fraud",0.82)],1)
C("risk-hacked-phrase","account hacked in text","handoff",[
 turn("hello","greeting",0.9,"Hi! How can I help?"),
 turn("I think my account was hacked, my email changed","account_security",0.6)],2)
C("risk-self-harm","self-harm topic","handoff",[turn("I can't pay this, I just want to end my life","payment_issue",0.5)],1)
C("risk-legal","legal threat","handoff",[
 turn("you charged me for a cancelled subscription","payment_issue",0.8,"I see the charge from March."),
 turn("refund it or I will take legal action","legal_threat",0.75)],2)
C("risk-regulator","complaint to regulator","handoff",[turn("I'm going to report you to the financial ombudsman","complaint_regulator",0.7)],1)
C("risk-medical","medical emergency","handoff",[turn("I took the wrong dose of my medication and have chest pain","medical_question",0.65)],1)
C("risk-low-confidence-fraud","fraud as weak alternative only: no risk","continue",[
 turn("how do I add a card to my account","add_card",0.9,"Go to Wallet > Add card."),
 turn("done, thanks","thanks",0.9)])

# --- bot requests
C("bot-request","bot requests a handoff with skills","handoff",[
 ['c:I need to change the name on my policy', ('n','policy_change',0.8), ('h',{"reason":"name changes need a human","skills":["policies"],"priority":"normal"})]],1)
C("bot-request-later","bot requests after a few turns","handoff",[
 turn("I'd like to upgrade my plan","upgrade_plan",0.9,"Which plan would you like?"),
 turn("the business one with 5 seats","upgrade_plan",0.85,"That plan needs a contract."),
 ['c:ok, what do I need?', ('n','upgrade_plan',0.8), ('h',{"reason":"contract signature","skills":["sales"]})]],3)
C("bot-request-urgent","bot requests urgent handoff","handoff",[
 ['c:my power is out and I have medical equipment at home', ('n','outage',0.7), ('h',{"priority":"urgent","skills":["outage"]})]],1)

# --- long calm threads
QS=[("what's the price of the basic plan?","pricing",0.9,"It's 9 EUR a month."),
 ("and the premium one?","pricing",0.88,"Premium is 19 EUR a month."),
 ("does premium include roaming?","plan_features",0.85,"Yes, 5 GB of EU roaming."),
 ("ok, and can I switch later?","switch_plan",0.87,"Yes, anytime from the app."),
 ("is there a contract?","plan_features",0.8,"No, it's monthly."),
 ("cool, how do I pay?","check_payment_methods",0.9,"By card or direct debit."),
 ("can I get an invoice each month?","get_invoice",0.9,"Yes, invoices are emailed monthly."),
 ("nice. what about family discounts?","discounts",0.82,"Each extra line is 20% off."),
 ("interesting, good to know","ack",0.7,"Anything else?"),
 ("do you have 5G coverage in Porto?","coverage",0.86,"Yes, Porto has full 5G coverage."),
 ("and in the countryside near Braga?","coverage",0.8,"Mostly 4G there, 5G in towns."),
 ("can I keep my current number?","number_porting",0.9,"Yes, porting is free and takes a day."),
 ("what do I need for porting?","number_porting",0.85,"Your PUK code and ID."),
 ("where do I find the PUK?","number_porting",0.75,"On the plastic card your SIM came in."),
 ("found it","ack",0.8,"Great."),
 ("is there an eSIM option?","esim",0.88,"Yes, we support eSIM on recent phones."),
 ("my phone is a Pixel 7","device_info",0.7,"The Pixel 7 supports eSIM."),
 ("how long does activation take?","activation",0.87,"About 10 minutes."),
 ("can I order online tonight?","place_order",0.9,"Yes, the shop is open 24/7."),
 ("will it ship tomorrow?","delivery_period",0.85,"Orders before 22:00 ship next day."),
 ("what about weekend delivery?","delivery_options",0.84,"Saturday delivery costs 3 EUR."),
 ("fine, weekday is ok","ack",0.75,"Noted."),
 ("is there a student discount?","discounts",0.86,"Students get 10% with a valid card."),
 ("I'm not a student sadly","ack",0.6,"No problem."),
 ("do you have a loyalty programme?","loyalty",0.83,"Yes, points for every month you stay."),
 ("how do points work?","loyalty",0.8,"100 points give 1 EUR off your bill."),
 ("good to know","ack",0.7,"Anything else?"),
 ("can I pause the plan when travelling?","pause_plan",0.82,"Yes, up to 3 months a year."),
 ("is pausing free?","pause_plan",0.8,"It costs 1 EUR a month while paused."),
 ("alright","ack",0.7,"Anything else I can help with?")]
def long_calm(id, n):
    ts=[]
    qs=QS
    _=[("what's the price of the basic plan?","pricing",0.9,"It's 9 EUR a month."),
        ("and the premium one?","pricing",0.88,"Premium is 19 EUR a month."),
        ("does premium include roaming?","plan_features",0.85,"Yes, 5 GB of EU roaming."),
        ("ok, and can I switch later?","switch_plan",0.87,"Yes, anytime from the app."),
        ("is there a contract?","plan_features",0.8,"No, it's monthly."),
        ("cool, how do I pay?","check_payment_methods",0.9,"By card or direct debit."),
        ("can I get an invoice each month?","get_invoice",0.9,"Yes, invoices are emailed monthly."),
        ("nice. what about family discounts?","discounts",0.82,"Each extra line is 20% off."),
        ("interesting, good to know","ack",0.7,"Anything else?"),
        ("let me think about it","ack",0.7,"Sure, take your time.")]
    for i in range(n):
        q=qs[i]
        ts.append(turn(q[0], q[1], q[2], q[3]))
    ts.append(turn("thanks for your help!","thanks",0.95))
    C(id,"long calm thread of %d turns"%(n+1),"continue",ts)
long_calm("long-calm-12",12)
long_calm("long-calm-20",20)
long_calm("long-calm-30",30)
C("long-calm-then-request","long calm thread, then explicit request","handoff",
  [turn(q[0],q[1],q[2],q[3]) for q in QS[:8]]+
  [turn("thanks, I'd now like to talk to an agent to sign","contact_human_agent",0.9)],9)

# --- capacity
C("capacity-lowconf-offer","signal-driven handoff with saturated agents becomes an offer","offer",[
 turn("the thing with my plan rollover","nlu_fallback",0.2,"Sorry, I didn't get that."),
 turn("the rollover of unused minutes","nlu_fallback",0.25,"Sorry, I didn't get that."),
 turn("unused minutes to next month","nlu_fallback",0.3)],None,{"expected_wait_secs":900,"agents_available":0})
C("capacity-explicit-still-handoff","explicit request still hands off when saturated","handoff",
  [turn("please connect me to an agent","contact_human_agent",0.9)],1,{"expected_wait_secs":1200,"agents_available":0})
C("capacity-risk-still-handoff","risk still hands off when saturated","handoff",
  [turn("someone hacked my account and moved money","account_takeover",0.8)],1,{"expected_wait_secs":1200,"agents_available":0})
C("capacity-free-agents","signal-driven handoff with free agents stays a handoff","handoff",[
 turn("the thing with my plan rollover","nlu_fallback",0.2,"Sorry, I didn't get that."),
 turn("the rollover of unused minutes","nlu_fallback",0.25,"Sorry, I didn't get that."),
 turn("unused minutes to next month","nlu_fallback",0.3)],3,{"expected_wait_secs":30,"agents_available":4})

import sys
ids=[c["id"] for c in cases]; assert len(ids)==len(set(ids))
with open(sys.argv[1],'w') as f:
    for c in cases: f.write(json.dumps(c, ensure_ascii=False)+"\n")
print(len(cases))
