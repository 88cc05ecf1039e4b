//! Cold-start configuration from the environment.

use std::collections::HashMap;

use callflow_authorizer::{AuthorizerConfig, ConfigError, JwksScheme, JwksSource, JwksUrl};

fn from(vars: &[(&str, &str)]) -> Result<AuthorizerConfig, ConfigError> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    AuthorizerConfig::from_lookup(|name| vars.get(name).cloned())
}

#[test]
fn reads_issuer_audience_and_exactly_one_key_source() {
    let config = from(&[
        ("JWT_ISSUER", "https://issuer.test"),
        ("JWT_AUDIENCE", "callflow"),
        ("JWKS_URL", "http://127.0.0.1:8080/jwks.json"),
    ])
    .expect("config");
    assert_eq!(config.issuer.as_str(), "https://issuer.test");
    assert_eq!(config.audience.as_str(), "callflow");
    assert_eq!(config.leeway.as_secs(), 30);
    let JwksSource::Url(url) = &config.jwks else {
        panic!("url source")
    };
    assert_eq!(
        (url.host(), url.port(), url.path_and_query()),
        ("127.0.0.1", 8080, "/jwks.json")
    );

    assert_eq!(
        from(&[("JWT_AUDIENCE", "a"), ("JWKS_JSON", "{}")]),
        Err(ConfigError::Missing("JWT_ISSUER"))
    );
    assert_eq!(
        from(&[
            ("JWT_ISSUER", "i"),
            ("JWT_AUDIENCE", " "),
            ("JWKS_JSON", "{}")
        ]),
        Err(ConfigError::Missing("JWT_AUDIENCE"))
    );
    assert_eq!(
        from(&[("JWT_ISSUER", "i"), ("JWT_AUDIENCE", "a")]),
        Err(ConfigError::KeySource)
    );
    assert_eq!(
        from(&[
            ("JWT_ISSUER", "i"),
            ("JWT_AUDIENCE", "a"),
            ("JWKS_JSON", "{}"),
            ("JWKS_URL", "http://h/")
        ]),
        Err(ConfigError::KeySource)
    );
}

#[test]
fn jwks_urls_are_http_or_https_with_default_ports() {
    let url = JwksUrl::parse("http://keys.internal").expect("no path");
    assert_eq!(
        (url.scheme(), url.host(), url.port(), url.path_and_query()),
        (JwksScheme::Http, "keys.internal", 80, "/")
    );
    let url = JwksUrl::parse("http://[::1]:9000/k?v=1").expect("v6");
    assert_eq!(
        (url.scheme(), url.host(), url.port(), url.path_and_query()),
        (JwksScheme::Http, "::1", 9000, "/k?v=1")
    );
    let url = JwksUrl::parse("https://auth.example.com/.well-known/jwks.json").expect("https");
    assert_eq!(
        (url.scheme(), url.host(), url.port(), url.path_and_query()),
        (
            JwksScheme::Https,
            "auth.example.com",
            443,
            "/.well-known/jwks.json"
        )
    );
    assert_eq!(
        url.uri().to_string(),
        "https://auth.example.com/.well-known/jwks.json"
    );
    let url = JwksUrl::parse("https://127.0.0.1:8443?x=1").expect("https with port");
    assert_eq!(
        (url.scheme(), url.port(), url.path_and_query()),
        (JwksScheme::Https, 8443, "/?x=1")
    );
    for bad in [
        "ftp://x",
        "https://",
        "HTTPS://x",
        "https://h/jwks#frag",
        "https://u:p@h/",
        "http://",
        "http://h:notaport/",
        "http://u@h/",
    ] {
        assert!(
            matches!(JwksUrl::parse(bad), Err(ConfigError::InvalidJwksUrl { .. })),
            "{bad}"
        );
    }
}

#[test]
fn inline_jwks_without_usable_keys_is_refused_at_cold_start() {
    let hmac_only = r#"{"keys":[{"kty":"oct","k":"c2VjcmV0","alg":"HS256","kid":"h"}]}"#;
    for jwks in ["not json", "{}", hmac_only] {
        let config = from(&[
            ("JWT_ISSUER", "i"),
            ("JWT_AUDIENCE", "a"),
            ("JWKS_JSON", jwks),
        ])
        .expect("env ok");
        assert!(
            matches!(
                callflow_authorizer::Authorizer::new(config),
                Err(ConfigError::InvalidJwks(_))
            ),
            "{jwks}"
        );
    }
}

/// The authorizer reads only the variables `callflow_deployment` lists for it, and the
/// stack-set ones alone configure it.
#[test]
fn reads_only_the_variables_the_deployment_lists() {
    use callflow_deployment::{Handler, SetBy, env};
    use std::cell::RefCell;
    let listed = Handler::Authorizer.environment();
    let asked = RefCell::new(Vec::<String>::new());
    let config = AuthorizerConfig::from_lookup(|name| {
        asked.borrow_mut().push(name.to_owned());
        let var = listed
            .iter()
            .find(|v| v.name == name && v.set_by == SetBy::Stack)?;
        Some(match var.name {
            env::JWT_ISSUER => "https://issuer.example".to_owned(),
            env::JWT_AUDIENCE => "callflow".to_owned(),
            env::JWKS_URL => "https://issuer.example/.well-known/jwks.json".to_owned(),
            _ => "x".to_owned(),
        })
    });
    assert!(config.is_ok(), "{:?}", config.err());
    for name in asked.into_inner() {
        assert!(
            listed.iter().any(|v| v.name == name),
            "{name} is read but not listed in callflow_deployment"
        );
    }
}

#[test]
fn client_id_claim_defaults_to_client_id_and_is_configurable() {
    let base = [
        ("JWT_ISSUER", "https://issuer.test"),
        ("JWT_AUDIENCE", "callflow"),
        ("JWKS_JSON", "{}"),
    ];
    assert_eq!(from(&base).expect("config").client_id_claim, "client_id");
    let mut vars = base.to_vec();
    vars.push(("CLIENT_ID_CLAIM", " azp "));
    assert_eq!(from(&vars).expect("config").client_id_claim, "azp");
    vars.pop();
    vars.push(("CLIENT_ID_CLAIM", ""));
    assert_eq!(from(&vars).expect("config").client_id_claim, "client_id");
}
