//! TOKEN Lambda authorizer: JWT verification against JWKS and scope-to-route IAM policies.
