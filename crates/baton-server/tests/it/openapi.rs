//! `/openapi.json` tells the truth: its shape is pinned by a snapshot; every operation
//! says who may call it, and that agrees with the BOLA matrix the live test checks;
//! every path parameter and every link is usable; the id patterns are core's.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::Value;

use crate::bola::{ROLES, ROUTES};
use crate::helpers::spawn_app;

async fn document() -> Value {
    let app = spawn_app().await;
    let (status, doc) = app.get("/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    doc
}

/// Every (method, path, operation) of the document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            all.push((method.clone(), path.clone(), operation.clone()));
        }
    }
    all
}

/// Follows a `$ref` into `components`.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.trim_start_matches("#/components/schemas/");
            &doc["components"]["schemas"][name]
        }
        None => schema,
    }
}

#[tokio::test]
async fn the_document_is_pinned_by_a_snapshot() {
    let mut doc = document().await;
    // The crate version changes on every release; nothing else in the document does.
    doc["info"]["version"] = Value::from("[version]");
    insta::assert_json_snapshot!("openapi", doc);
}

#[tokio::test]
async fn every_operation_has_a_unique_id_roles_and_error_answers() {
    let doc = document().await;
    let mut ids = BTreeSet::new();
    for (method, path, operation) in operations(&doc) {
        let id = operation["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path}: no operationId"));
        assert!(ids.insert(id.to_owned()), "{id} twice");
        let roles = operation["x-baton-roles"]
            .as_array()
            .unwrap_or_else(|| panic!("{method} {path}: no x-baton-roles"));
        assert!(!roles.is_empty(), "{method} {path}");
        for status in ["400", "401"] {
            let error = &operation["responses"][status]["content"]["application/json"]["schema"];
            assert_eq!(
                error["$ref"], "#/components/schemas/Error",
                "{method} {path} {status}"
            );
        }
    }
    assert!(ids.len() >= 38, "{ids:?}");
}

/// A route of the matrix (`/v1/customers/bola-nobody`) names the template it calls.
fn template<'a>(doc: &'a Value, method: &str, concrete: &str) -> Option<&'a Value> {
    let wanted: Vec<&str> = concrete.split('/').collect();
    doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .find_map(|(path, item)| {
            let parts: Vec<&str> = path.split('/').collect();
            let fits = parts.len() == wanted.len()
                && parts
                    .iter()
                    .zip(&wanted)
                    .all(|(p, w)| p == w || p.starts_with('{') || w.starts_with('{'));
            fits.then(|| &item[method.to_lowercase()])
                .filter(|o| !o.is_null())
        })
}

#[tokio::test]
async fn the_roles_each_operation_states_are_the_ones_the_bola_matrix_proves() {
    let doc = document().await;
    // Bearer columns of the matrix, by the role they hold (agent B mirrors agent A).
    let columns = [
        ("bot", 0),
        ("agent", 1),
        ("supervisor", 3),
        ("auditor", 4),
        ("admin", 5),
    ];
    assert_eq!(ROLES[1], "agent A");
    let mut checked = 0;
    for route in ROUTES {
        let (method, path) = route.call.split_once(' ').unwrap();
        if path.contains('?') {
            continue; // a variant of an operation (`?view=sealed`), said in its description
        }
        let operation = template(&doc, method, path)
            .unwrap_or_else(|| panic!("{} is not in /openapi.json", route.call));
        let stated: BTreeSet<&str> = operation["x-baton-roles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        for (role, column) in columns {
            let statuses = route.bearer(column);
            if statuses.iter().any(|s| (200..300).contains(s)) {
                assert!(
                    stated.contains(role),
                    "{}: {role} succeeds but is not in {stated:?}",
                    route.call
                );
            } else if statuses.iter().all(|s| *s == 403) {
                assert!(
                    !stated.contains(role),
                    "{}: {role} is refused but listed",
                    route.call
                );
            }
        }
        checked += 1;
    }
    assert!(checked >= 30, "{checked}");
}

#[tokio::test]
async fn every_path_parameter_is_required_and_constrained() {
    let doc = document().await;
    for (method, path, operation) in operations(&doc) {
        for parameter in operation["parameters"].as_array().into_iter().flatten() {
            if parameter["in"] != "path" {
                continue;
            }
            assert_eq!(parameter["required"], true, "{method} {path}");
            let name = parameter["name"].as_str().unwrap();
            assert!(
                path.contains(&format!("{{{name}}}")),
                "{method} {path}: {name} is no path parameter"
            );
            let schema = resolve(&doc, &parameter["schema"]);
            assert!(
                schema["pattern"].is_string(),
                "{method} {path} {parameter}: {schema}"
            );
        }
    }
    let conversation = &doc["components"]["schemas"]["ConversationId"];
    assert_eq!(conversation["pattern"], baton_core::id::ID_PATTERN);
    assert_eq!(conversation["maxLength"], baton_core::id::MAX_ID_LEN);
    let key = &doc["components"]["schemas"]["KeyId"];
    assert_eq!(
        key["pattern"],
        baton_core::id::random_hex_pattern(baton_core::KeyId::PREFIX)
    );
}

#[tokio::test]
async fn every_link_names_an_operation_and_its_parameters() {
    let doc = document().await;
    let all = operations(&doc);
    let mut links = 0;
    for (method, path, operation) in &all {
        for (status, response) in operation["responses"].as_object().unwrap() {
            for (name, link) in response["links"].as_object().into_iter().flatten() {
                let target = link["operationId"].as_str().unwrap();
                let (_, _, to) = all
                    .iter()
                    .find(|(_, _, o)| o["operationId"] == target)
                    .unwrap_or_else(|| panic!("{method} {path} {status} {name}: no {target}"));
                let declared: BTreeSet<&str> = to["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|p| p["name"].as_str().unwrap())
                    .collect();
                for parameter in link["parameters"].as_object().unwrap().keys() {
                    assert!(
                        declared.contains(parameter.as_str()),
                        "{name}: {target} has no {parameter}"
                    );
                }
                links += 1;
            }
        }
    }
    assert!(links >= 15, "{links}");
    let append = &doc["paths"]["/v1/conversations/{cid}/events"]["post"];
    let body = resolve(
        &doc,
        &append["requestBody"]["content"]["application/json"]["schema"],
    );
    assert_eq!(
        body["properties"]["events"]["maxItems"],
        baton_server::append::MAX_BATCH_EVENTS
    );
}
