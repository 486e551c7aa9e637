//! Outgoing HTTP clients (webhook deliveries, the CLI talking to a server, tests):
//! reqwest over rustls on ring. This build's reqwest has no crypto provider of its
//! own (its default, aws-lc-rs, needs a C toolchain we avoid), and every client it
//! builds needs one, even for plain `http`, so every client starts here.

/// A client builder whose TLS runs on ring. Installs ring as the process's rustls
/// provider the first time; later calls find it installed.
pub fn builder() -> reqwest::ClientBuilder {
    // A second install is refused with the provider already in place: nothing to do.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}
