//! The API's own tokens: short-lived JWT access tokens and rotating refresh tokens,
//! HMAC-SHA256 signed with the key of a Secret. The algorithm is pinned (a token
//! naming `none`, RS256 or anything else is refused before its signature is looked
//! at), and exp, nbf, iss, aud and sub are required and checked. Access and refresh
//! tokens have different audiences, so neither passes for the other.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode};
use serde::{Deserialize, Serialize};

/// The `kid` of the API's tokens: how a bearer token is told apart from a Kubernetes
/// token (also a JWT) without trusting anything else in it.
pub const KEY_ID: &str = "driftmgr-api";
/// Audience of access tokens.
pub const ACCESS_AUDIENCE: &str = "driftmgr-api";
/// Audience of refresh tokens.
pub const REFRESH_AUDIENCE: &str = "driftmgr-api-refresh";
/// Clock skew tolerated between replicas, in seconds.
const LEEWAY: u64 = 5;

/// What the API's tokens say.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The user.
    pub sub: String,
    pub iat: u64,
    pub nbf: u64,
    pub exp: u64,
    /// The refresh-token family (one per login): revoking it ends the session.
    pub fam: String,
    /// Refresh tokens: the family's rotation this token belongs to.
    #[serde(default)]
    pub generation: u64,
    /// Access tokens: the user's roles at login or the last refresh.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
}

/// Why a token was refused.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not one of this API's")]
    Foreign,
    #[error("the token is expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token is for another audience")]
    Audience,
    #[error("the token is not valid: {0}")]
    Invalid(String),
}

/// Signs and checks the API's tokens.
pub struct Signer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    issuer: String,
}

/// Whether `token` claims to be one of the API's (its header's `kid`), unverified.
pub fn is_ours(token: &str) -> bool {
    decode_header(token).is_ok_and(|h| h.kid.as_deref() == Some(KEY_ID))
}

impl Signer {
    /// A signer with `key` (at least 32 bytes) and the `iss` it writes and expects.
    pub fn new(key: &[u8], issuer: &str) -> Result<Self, TokenError> {
        if key.len() < 32 {
            return Err(TokenError::Invalid(format!("the signing key has {} bytes; it needs 32", key.len())));
        }
        Ok(Self {
            encoding: EncodingKey::from_secret(key),
            decoding: DecodingKey::from_secret(key),
            issuer: issuer.to_string(),
        })
    }

    /// A token for `claims` (whose `iss` is set to this signer's).
    pub fn sign(&self, mut claims: Claims) -> String {
        claims.iss = self.issuer.clone();
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(KEY_ID.to_string());
        // Serialising these claims and an HMAC cannot fail.
        encode(&header, &claims, &self.encoding).expect("HS256 signing")
    }

    /// The claims of a valid token for `audience`, at `now` (seconds since the epoch).
    pub fn verify(&self, token: &str, audience: &str, now: u64) -> Result<Claims, TokenError> {
        let header = decode_header(token).map_err(|_| TokenError::Foreign)?;
        if header.kid.as_deref() != Some(KEY_ID) {
            return Err(TokenError::Foreign);
        }
        if header.alg != Algorithm::HS256 {
            return Err(TokenError::Invalid(format!("algorithm {:?} is not accepted", header.alg)));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY;
        // The library reads the clock itself; checking here too keeps `now` the authority
        // for tests and tolerates no more than LEEWAY either way.
        let claims = decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                jsonwebtoken::errors::ErrorKind::ImmatureSignature => TokenError::NotYetValid,
                jsonwebtoken::errors::ErrorKind::InvalidAudience => TokenError::Audience,
                other => TokenError::Invalid(format!("{other:?}")),
            })?
            .claims;
        if claims.exp + LEEWAY <= now {
            return Err(TokenError::Expired);
        }
        if claims.nbf > now + LEEWAY {
            return Err(TokenError::NotYetValid);
        }
        Ok(claims)
    }
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn claims(aud: &str, now: u64) -> Claims {
        Claims {
            iss: String::new(),
            aud: aud.into(),
            sub: "alice".into(),
            iat: now,
            nbf: now,
            exp: now + 300,
            fam: "f1".into(),
            generation: 0,
            roles: vec!["viewer".into()],
        }
    }

    #[test]
    fn a_signed_token_verifies_for_its_audience_only() {
        let signer = Signer::new(KEY, "driftmgr").expect("signer");
        let now = super::now();
        let token = signer.sign(claims(ACCESS_AUDIENCE, now));
        assert!(is_ours(&token));
        let read = signer.verify(&token, ACCESS_AUDIENCE, now).expect("valid");
        assert_eq!((read.sub.as_str(), read.iss.as_str()), ("alice", "driftmgr"));
        assert!(matches!(signer.verify(&token, REFRESH_AUDIENCE, now), Err(TokenError::Audience)));
        let other_issuer = Signer::new(KEY, "someone-else").expect("signer");
        assert!(matches!(other_issuer.verify(&token, ACCESS_AUDIENCE, now), Err(TokenError::Invalid(_))));
        let other_key = Signer::new(b"another key of thirty-two bytes!", "driftmgr").expect("signer");
        assert!(matches!(other_key.verify(&token, ACCESS_AUDIENCE, now), Err(TokenError::Invalid(_))));
    }

    #[test]
    fn expired_and_future_tokens_are_refused() {
        let signer = Signer::new(KEY, "driftmgr").expect("signer");
        let now = super::now();
        let mut old = claims(ACCESS_AUDIENCE, now - 1000);
        old.exp = now - 600;
        assert!(matches!(signer.verify(&signer.sign(old), ACCESS_AUDIENCE, now), Err(TokenError::Expired)));
        let mut future = claims(ACCESS_AUDIENCE, now);
        future.nbf = now + 600;
        assert!(matches!(
            signer.verify(&signer.sign(future), ACCESS_AUDIENCE, now),
            Err(TokenError::NotYetValid)
        ));
    }

    #[test]
    fn the_algorithm_is_pinned_and_tampering_is_detected() {
        let signer = Signer::new(KEY, "driftmgr").expect("signer");
        let now = super::now();
        let token = signer.sign(claims(ACCESS_AUDIENCE, now));
        let parts: Vec<&str> = token.split('.').collect();
        let body = |c: &Claims| URL_SAFE_NO_PAD.encode(serde_json::to_vec(c).expect("json"));
        let mut admin = claims(ACCESS_AUDIENCE, now);
        admin.iss = "driftmgr".into();
        admin.roles = vec!["admin".into()];
        // The payload changed, the signature kept: refused.
        let tampered = format!("{}.{}.{}", parts[0], body(&admin), parts[2]);
        assert!(matches!(signer.verify(&tampered, ACCESS_AUDIENCE, now), Err(TokenError::Invalid(_))));
        // alg none, no signature.
        let none = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT","kid":"driftmgr-api"}"#);
        assert!(signer.verify(&format!("{none}.{}.", body(&admin)), ACCESS_AUDIENCE, now).is_err());
        // RS256 named, HMAC'd with the key as if it were a public key: refused by name.
        let mut header = Header::new(Algorithm::HS384);
        header.kid = Some(KEY_ID.into());
        let hs384 = encode(&header, &admin, &EncodingKey::from_secret(KEY)).expect("sign");
        assert!(matches!(signer.verify(&hs384, ACCESS_AUDIENCE, now), Err(TokenError::Invalid(_))));
        let rs = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT","kid":"driftmgr-api"}"#);
        assert!(signer.verify(&format!("{rs}.{}.{}", body(&admin), parts[2]), ACCESS_AUDIENCE, now).is_err());
        assert!(!is_ours("not-a-jwt") && !is_ours(&format!("{}.{}.x", parts[1], parts[1])));
        assert!(Signer::new(b"short", "driftmgr").is_err(), "a short key is refused");
    }
}
