//! Which URLs a subscription may name: absolute `http` or `https` URLs with a host,
//! without credentials (they would show in every listing), at most 2,048 bytes.

/// The longest URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// Why a URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// Not a URL.
    #[error("url is not an absolute URL")]
    NotAUrl,
    /// Another scheme.
    #[error("url must be http or https, not {0}")]
    Scheme(String),
    /// No host.
    #[error("url must name a host")]
    NoHost,
    /// A user name or password in the URL.
    #[error("url must not carry credentials; the signature authenticates baton")]
    Credentials,
    /// Too long.
    #[error("url must be at most {MAX_URL_LEN} bytes")]
    TooLong,
}

/// Checks a subscription's URL, returning it normalised.
pub fn check(raw: &str) -> Result<String, TargetError> {
    if raw.len() > MAX_URL_LEN {
        return Err(TargetError::TooLong);
    }
    let url = reqwest::Url::parse(raw).map_err(|_| TargetError::NotAUrl)?;
    match url.scheme() {
        "http" | "https" => {}
        other => return Err(TargetError::Scheme(other.to_owned())),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(TargetError::NoHost);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(TargetError::Credentials);
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_http_and_https_urls_pass() {
        assert_eq!(
            check("http://127.0.0.1:9000/hook").unwrap(),
            "http://127.0.0.1:9000/hook"
        );
        assert!(check("https://desk.example.com/baton?x=1").is_ok());
        assert_eq!(
            check("ftp://example.com/").unwrap_err(),
            TargetError::Scheme("ftp".into())
        );
        assert_eq!(
            check("file:///etc/passwd").unwrap_err(),
            TargetError::Scheme("file".into())
        );
        assert_eq!(check("not a url").unwrap_err(), TargetError::NotAUrl);
        assert_eq!(
            check("https://user:pw@example.com/").unwrap_err(),
            TargetError::Credentials
        );
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(check(&long).unwrap_err(), TargetError::TooLong);
    }
}
