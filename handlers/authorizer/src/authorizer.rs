//! The authorizer: bearer token → verified claims → Allow/Deny policy for all routes.

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerRequest, ApiGatewayCustomAuthorizerResponse,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use callflow_openapi::Route;
use jsonwebtoken::{Validation, decode, decode_header};
use serde_json::json;

use crate::bearer::{BearerToken, TokenFingerprint};
use crate::config::{AuthorizerConfig, ConfigError, JwksSource};
use crate::fetch::JwksFetcher;
use crate::keys::{ALLOWED_ALGORITHMS, KeyLookupError, KeyStore};
use crate::policy::{
    Decision, InvalidMethodArn, MethodArn, decide, policy_allows, policy_document,
};
use crate::verify::{Rejection, TokenClaims, VerifiedToken, string_claim};

/// Errors returned to Lambda. API Gateway answers 401 for exactly the message
/// `Unauthorized`, and 500 for any other error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizerError {
    /// The token is missing, malformed, or fails verification (401).
    #[error("Unauthorized")]
    Unauthorized,
    /// No verification keys could be loaded: fail closed (500).
    #[error("verification keys unavailable")]
    KeysUnavailable,
    /// The event's `methodArn` is missing or not an execute-api ARN (500).
    #[error(transparent)]
    InvalidMethodArn(#[from] InvalidMethodArn),
}

/// Why a JOSE header jsonwebtoken cannot read was refused: an `alg` it does not know
/// (e.g. `none`) is reported as an algorithm rejection, anything else as a bad header.
fn header_rejection(token: &BearerToken) -> Rejection {
    let alg = token
        .expose()
        .split('.')
        .next()
        .and_then(|part| URL_SAFE_NO_PAD.decode(part).ok())
        .and_then(|json| serde_json::from_slice::<serde_json::Value>(&json).ok())
        .and_then(|header| header.get("alg")?.as_str().map(str::to_owned));
    match alg {
        Some(alg) => Rejection::Algorithm(alg),
        None => Rejection::Header,
    }
}

/// The TOKEN authorizer, built once per cold start.
pub struct Authorizer {
    config: AuthorizerConfig,
    keys: KeyStore,
    routes: Vec<Route>,
}

impl Authorizer {
    /// Builds the authorizer: the route table from the embedded OpenAPI spec, and the key
    /// store (inline keys are parsed now; URL keys load on [`Authorizer::warm_up`] or
    /// first use; for an `https://` URL the TLS client and its trust anchors are set up
    /// now).
    pub fn new(config: AuthorizerConfig) -> Result<Self, ConfigError> {
        let routes = callflow_openapi::routes()?;
        let keys = match &config.jwks {
            JwksSource::Inline(json) => KeyStore::inline(json, config.refetch)
                .map_err(|e| ConfigError::InvalidJwks(e.to_string()))?,
            JwksSource::Url(url) => KeyStore::fetched(
                JwksFetcher::new(url.clone(), &config.trust)?,
                config.refetch,
            ),
        };
        Ok(Self {
            config,
            keys,
            routes,
        })
    }

    /// The route table policies are built from.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// Loads URL keys now (call at cold start); a failure is retried on first use.
    pub async fn warm_up(&self) -> Result<(), AuthorizerError> {
        self.keys
            .refresh()
            .await
            .map_err(|_| AuthorizerError::KeysUnavailable)
    }

    /// Verifies an `Authorization` header value: bearer shape, allowlisted algorithm,
    /// key by `kid`, signature, `exp`/`nbf` (with leeway), `iss`, `aud`, `sub`.
    pub async fn verify(&self, authorization: Option<&str>) -> Result<VerifiedToken, Rejection> {
        let token = BearerToken::from_header(authorization)?;
        let header = decode_header(token.expose()).map_err(|_| header_rejection(&token))?;
        // RFC 7515 §4.1.11: we understand no critical extensions, so any `crit` (even an
        // empty one) makes the token invalid, whatever its signature.
        if header.crit.is_some() {
            return Err(Rejection::CriticalHeader);
        }
        if !ALLOWED_ALGORITHMS.contains(&header.alg) {
            return Err(Rejection::Algorithm(format!("{:?}", header.alg)));
        }
        let key = self
            .keys
            .key_for(header.kid.as_deref())
            .await
            .map_err(|e| match e {
                KeyLookupError::UnknownKid(kid) => Rejection::UnknownKey(kid),
                KeyLookupError::Unavailable(message) => Rejection::KeysUnavailable(message),
            })?;
        if key.algorithm != header.alg {
            return Err(Rejection::Algorithm(format!("{:?}", header.alg)));
        }
        let mut validation = Validation::new(key.algorithm);
        validation.leeway = self.config.leeway.as_secs();
        validation.validate_nbf = true;
        validation.set_issuer(&[self.config.issuer.as_str()]);
        validation.set_audience(&[self.config.audience.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let data = decode::<TokenClaims>(token.expose(), &key.key, &validation)
            .map_err(|e| Rejection::from_jwt(e.kind()))?;
        if data.claims.sub.trim().is_empty() {
            return Err(Rejection::MissingClaim("sub".into()));
        }
        // The signature checked out, so the payload is base64url JSON.
        let client_id = token
            .expose()
            .split('.')
            .nth(1)
            .and_then(|part| URL_SAFE_NO_PAD.decode(part).ok())
            .and_then(|payload| string_claim(&payload, &self.config.client_id_claim))
            .ok_or_else(|| Rejection::MissingClaim(self.config.client_id_claim.clone()))?;
        Ok(VerifiedToken {
            scopes: data.claims.scopes(),
            subject: data.claims.sub,
            client_id,
        })
    }

    /// Answers one TOKEN authorizer event: `Err(Unauthorized)` for a bad token, an
    /// explicit Deny for a valid token without any scope of this API, otherwise an Allow
    /// listing every route the token's scopes grant. The context carries `sub`, `scopes`
    /// (space separated) and `clientId`; `usageIdentifierKey` is the client claim's value. Each decision is logged as one event (no token,
    /// only its fingerprint).
    pub async fn authorize(
        &self,
        request: ApiGatewayCustomAuthorizerRequest,
    ) -> Result<ApiGatewayCustomAuthorizerResponse, AuthorizerError> {
        let method_arn = request.method_arn.as_deref().unwrap_or_default();
        let fingerprint = request
            .authorization_token
            .as_deref()
            .map(TokenFingerprint::of)
            .map(|f| f.to_string())
            .unwrap_or_default();
        let arn = MethodArn::parse(method_arn).inspect_err(|_| {
            tracing::error!(decision = "error", reason = "method_arn", method_arn, token = %fingerprint, "authorizer decision");
        })?;
        let verified = match self.verify(request.authorization_token.as_deref()).await {
            Ok(verified) => verified,
            Err(rejection) => {
                let reason = rejection.reason();
                if let Rejection::KeysUnavailable(detail) = &rejection {
                    tracing::error!(decision = "error", reason, detail = %detail, method_arn, token = %fingerprint, "authorizer decision");
                    return Err(AuthorizerError::KeysUnavailable);
                }
                tracing::info!(decision = "unauthorized", reason, method_arn, token = %fingerprint, "authorizer decision");
                return Err(AuthorizerError::Unauthorized);
            }
        };
        let decision = decide(&verified.api_scopes(), &self.routes);
        let policy = policy_document(&decision, &arn);
        let scopes = verified.scopes.join(" ");
        tracing::info!(
            decision = if matches!(decision, Decision::Allow(_)) { "allow" } else { "deny" },
            covers_request = policy_allows(&policy, method_arn),
            sub = %verified.subject,
            client = %verified.client_id,
            scopes = %scopes,
            method_arn,
            token = %fingerprint,
            "authorizer decision"
        );
        let mut response = ApiGatewayCustomAuthorizerResponse::default();
        response.principal_id = Some(verified.subject.clone());
        response.policy_document = policy;
        response.context =
            json!({ "sub": verified.subject, "scopes": scopes, "clientId": verified.client_id });
        response.usage_identifier_key = Some(verified.client_id);
        Ok(response)
    }
}
