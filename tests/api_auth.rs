//! The API's own authentication on the real API server, run as the chart's
//! ServiceAccount with the chart's RBAC (`api.enabled`): the bootstrap admin, password
//! logins for users an admin adds to the users Secret (hashed with `driftmgr
//! hash-password`), every route against every role and every kind of bad credential
//! from the route table itself, refresh-token rotation with reuse detection, API
//! keys, the dashboard's cookie session with its CSRF check, rate limits and the
//! hardening headers.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::api::{ApiProcess, add_users, call, login, send, start};
use common::chart::{apply_chart_rbac_with, service_account_kubeconfig};
use common::kubectl;
use driftmgr::api::auth::{ROUTES, Role, Route};
use driftmgr::api::tokens::{ACCESS_AUDIENCE, Claims, Signer};
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(30);

/// A namespace with the chart's RBAC, and `driftmgr api` with logins in it.
async fn setup(prefix: &str, extra: &[&str]) -> (String, ApiProcess, tempfile::TempDir) {
    let client = common::client().await;
    common::install_crds(&client).await;
    let ns = common::namespace(&client, prefix).await;
    let dir = tempfile::tempdir().expect("temp dir");
    apply_chart_rbac_with(&ns, dir.path(), &["api.enabled=true"], 9);
    let kubeconfig = service_account_kubeconfig(&ns, dir.path());
    let mut args: Vec<String> = ["--auth-namespace", &ns, "--audit-namespace", &ns, "--insecure-cookies"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    let api = start(&ns, &kubeconfig, dir.path().join("api.log"), &args).await;
    (ns, api, dir)
}

fn secret_value(ns: &str, secret: &str, key: &str) -> Vec<u8> {
    let encoded = kubectl(&["get", "secret", secret, "-n", ns, "-o", &format!("jsonpath={{.data.{key}}}")]);
    STANDARD.decode(encoded.trim()).expect("base64")
}

async fn post_json(port: u16, path: &str, token: Option<&str>, body: &Value) -> (u16, String, Value) {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(auth) = &auth {
        headers.push(("Authorization", auth));
    }
    send(port, "POST", path, &headers, &body.to_string()).await
}

fn concrete(path: &str, ns: &str) -> String {
    path.replace("{namespace}", ns).replace("{name}", "absent").replace("{id}", "0000")
}

fn allowed_roles(route: Route) -> Vec<Role> {
    let listed =
        ROUTES.iter().find(|(r, _)| *r == route).map(|(_, roles)| roles.to_vec()).unwrap_or_default();
    Role::ALL.into_iter().filter(|role| *role == Role::Admin || listed.contains(role)).collect()
}

#[tokio::test]
async fn every_route_answers_each_role_as_the_table_says_and_refuses_every_bad_credential() {
    let (ns, api, _dir) = setup(
        "auth-matrix",
        &["--rate-per-user", "100000", "--rate-per-ip", "100000", "--logins-per-minute", "1000"],
    )
    .await;

    // The bootstrap admin's first password is in its Secret, for the admin to read once.
    let first =
        String::from_utf8(secret_value(&ns, "driftmgr-api-initial-admin", "password")).expect("utf-8");
    assert!(first.len() >= 20, "a long random password");
    let (status, body) = login(api.port, "admin", "wrong").await;
    assert_eq!((status, body["message"].as_str()), (401, Some("the user name or password is wrong")));
    let (status, body) = login(api.port, "nobody", &first).await;
    assert_eq!(status, 401, "an unknown user gets the same answer: {body}");
    let (status, admin) = login(api.port, "admin", &first).await;
    assert_eq!((status, admin["roles"].clone()), (200, json!(["admin"])), "{admin}");

    let names: Vec<[&str; 1]> = Role::ALL.iter().map(|r| [r.name()]).collect();
    let users: Vec<(&str, &[&str])> = names.iter().map(|n| (n[0], n.as_slice())).collect();
    add_users(&ns, &users[1..]);
    let mut tokens = BTreeMap::new();
    tokens.insert(Role::Admin, admin["accessToken"].as_str().expect("access token").to_string());
    for role in &Role::ALL[1..] {
        let (status, body) = login(api.port, role.name(), &format!("pw-{}", role.name())).await;
        assert_eq!((status, body["roles"].clone()), (200, json!([role.name()])), "{body}");
        tokens.insert(*role, body["accessToken"].as_str().expect("token").to_string());
    }
    assert_eq!(names.len(), 5);

    // Bad credentials, each minted the way an attacker might get one.
    let key = secret_value(&ns, "driftmgr-api-signing", "hs256");
    let signer = Signer::new(&key, "driftmgr").expect("signer");
    let now = driftmgr::api::tokens::now();
    let claims = |aud: &str, exp: u64| Claims {
        iss: String::new(),
        aud: aud.into(),
        sub: "admin".into(),
        iat: now - 600,
        nbf: now - 600,
        exp,
        fam: "none".into(),
        generation: 0,
        roles: vec!["admin".into()],
    };
    let admin_token = tokens[&Role::Admin].clone();
    let parts: Vec<&str> = admin_token.split('.').collect();
    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("json");
    payload["sub"] = json!("mallory");
    let tampered = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(payload.to_string()), parts[2]);
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT","kid":"driftmgr-api"}"#);
    let alg_none = format!("{none_header}.{}.", parts[1]);
    let (_, session) = login(api.port, "viewer", "pw-viewer").await;
    let (status, _, _) = post_json(
        api.port,
        "/api/v1/auth/logout",
        None,
        &json!({"refreshToken": session["refreshToken"].as_str().expect("refresh")}),
    )
    .await;
    assert_eq!(status, 204);
    let other_key = Signer::new(b"not the API's key, but 32 bytes!", "driftmgr").expect("signer");
    let bad: Vec<(&str, Option<String>)> = vec![
        ("no credential", None),
        ("expired", Some(signer.sign(claims(ACCESS_AUDIENCE, now - 60)))),
        ("tampered", Some(tampered)),
        ("alg none", Some(alg_none)),
        ("signed with another key", Some(other_key.sign(claims(ACCESS_AUDIENCE, now + 600)))),
        ("wrong audience (a refresh token)", Some(admin["refreshToken"].as_str().expect("refresh").into())),
        ("a logged-out session's", Some(session["accessToken"].as_str().expect("access").into())),
        ("not a token", Some("dmk_0000_forged".into())),
    ];
    // The logout reaches every replica's cache within seconds.
    let logged_out = session["accessToken"].as_str().expect("access").to_string();
    common::wait_until(TIMEOUT, "the logged-out session refused", || async {
        (call(api.port, "GET", "/api/v1/auth/me", Some(&logged_out)).await.0 == 401).then_some(())
    })
    .await;

    let public = [Route::Login, Route::Refresh, Route::Logout];
    let mut checked = 0;
    for (method, path, route, _) in driftmgr::api::api_routes() {
        let path = concrete(path, &ns);
        let method = method.to_uppercase();
        if public.contains(&route) {
            continue;
        }
        let allowed = allowed_roles(route);
        for role in Role::ALL {
            let (status, _, body) = call(api.port, &method, &path, Some(&tokens[&role])).await;
            if allowed.contains(&role) {
                assert!(
                    ![401, 403, 429, 500].contains(&status),
                    "{method} {path} as {}: allowed by the table, got {status} {body}",
                    role.name()
                );
            } else {
                assert_eq!(status, 403, "{method} {path} as {}: not in the table: {body}", role.name());
                assert!(
                    body["message"].as_str().is_some_and(|m| m.contains(&format!("{route:?}"))),
                    "{body}"
                );
            }
            checked += 1;
        }
        for (what, token) in &bad {
            let (status, head, body) = call(api.port, &method, &path, token.as_deref()).await;
            assert_eq!(status, 401, "{method} {path} with {what}: {body}");
            assert!(head.to_ascii_lowercase().contains("www-authenticate: bearer"));
            if let Some(token) = token {
                assert!(!body.to_string().contains(token.as_str()), "the credential is never echoed");
            }
            checked += 1;
        }
    }
    assert!(checked > 200, "{checked} combinations");

    // Refused requests are audited, with the role and no credential.
    let (status, _, trail) =
        call(api.port, "GET", "/api/v1/audit?actor=viewer&limit=500", Some(&tokens[&Role::Auditor])).await;
    assert_eq!(status, 200, "{trail}");
    let records = trail["items"].as_array().expect("items");
    assert!(records.iter().any(|r| r["action"] == "TriggerScan"
        && r["result"] == "denied 403"
        && r["roles"] == json!(["viewer"])));
    let (status, _, everything) =
        call(api.port, "GET", "/api/v1/audit?limit=500", Some(&tokens[&Role::Auditor])).await;
    assert_eq!(status, 200);
    let text = everything.to_string();
    assert!(!text.contains(&first) && !text.contains("pw-viewer"), "no password in the trail");
    assert!(!text.contains(&admin_token), "no token in the trail");
    assert!(everything["items"].as_array().expect("items").iter().any(|r| r["action"] == "Login"
        && r["target"] == "nobody"
        && r["actor"] == "anonymous"
        && r["result"] == "denied 401"));
    let (_, _, verified) = call(api.port, "GET", "/api/v1/audit/verify", Some(&tokens[&Role::Auditor])).await;
    assert_eq!(verified["intact"], true, "{verified}");
}

#[tokio::test]
async fn refresh_tokens_rotate_once_and_a_reused_one_ends_the_session() {
    let (ns, api, _dir) = setup("auth-refresh", &[]).await;
    add_users(&ns, &[("olivia", &["operator"])]);
    let (status, first) = login(api.port, "olivia", "pw-olivia").await;
    assert_eq!(status, 200, "{first}");
    let refresh = |token: &str| {
        let body = json!({"refreshToken": token});
        async move { post_json(api.port, "/api/v1/auth/refresh", None, &body).await }
    };
    let (status, _, second) = refresh(first["refreshToken"].as_str().expect("refresh")).await;
    assert_eq!(status, 200, "{second}");
    assert_ne!(second["refreshToken"], first["refreshToken"], "rotated");
    let access = second["accessToken"].as_str().expect("access").to_string();
    assert_eq!(call(api.port, "GET", "/api/v1/auth/me", Some(&access)).await.0, 200);

    // The first refresh token again: somebody copied it. The whole session ends.
    let (status, _, reused) = refresh(first["refreshToken"].as_str().expect("refresh")).await;
    assert_eq!(status, 401, "{reused}");
    assert!(reused["message"].as_str().is_some_and(|m| m.contains("already used")), "{reused}");
    let (status, _, _) = refresh(second["refreshToken"].as_str().expect("refresh")).await;
    assert_eq!(status, 401, "the newer token of the family is revoked too");
    common::wait_until(TIMEOUT, "the session's access token refused", || async {
        (call(api.port, "GET", "/api/v1/auth/me", Some(&access)).await.0 == 401).then_some(())
    })
    .await;

    // API keys: some of the owner's roles, shown once, stored hashed, revocable.
    let (_, fresh) = login(api.port, "olivia", "pw-olivia").await;
    let token = fresh["accessToken"].as_str().expect("access").to_string();
    let (status, _, refused) =
        post_json(api.port, "/api/v1/auth/keys", Some(&token), &json!({"name": "ci", "roles": ["admin"]}))
            .await;
    assert_eq!(status, 403, "a key cannot have a role its owner lacks: {refused}");
    let (status, _, created) =
        post_json(api.port, "/api/v1/auth/keys", Some(&token), &json!({"name": "ci", "roles": ["operator"]}))
            .await;
    assert_eq!(status, 201, "{created}");
    let key = created["key"].as_str().expect("key").to_string();
    let stored = kubectl(&["get", "secret", "driftmgr-api-keys", "-n", &ns, "-o", "json"]);
    let secret_part = key.rsplit('_').next().expect("secret part");
    assert!(!stored.contains(secret_part), "the key is not stored");
    let decoded: Value = serde_json::from_str(&stored).expect("json");
    let record: Value = serde_json::from_slice(
        &STANDARD
            .decode(decoded["data"][created["id"].as_str().expect("id")].as_str().expect("entry"))
            .expect("b64"),
    )
    .expect("record");
    assert_eq!(record["hash"].as_str().map(str::len), Some(64), "its SHA-256: {record}");
    let (status, _, me) = call(api.port, "GET", "/api/v1/auth/me", Some(&key)).await;
    assert_eq!((status, me["user"].as_str()), (200, Some("olivia")), "{me}");
    let (_, _, listed) = call(api.port, "GET", "/api/v1/auth/keys", Some(&token)).await;
    assert_eq!(listed["items"][0]["name"], "ci");
    assert!(!listed.to_string().contains(secret_part));
    let path = format!("/api/v1/auth/keys/{}", created["id"].as_str().expect("id"));
    assert_eq!(call(api.port, "DELETE", &path, Some(&token)).await.0, 204);
    common::wait_until(TIMEOUT, "the revoked key refused", || async {
        (call(api.port, "GET", "/api/v1/auth/me", Some(&key)).await.0 == 401).then_some(())
    })
    .await;
}

#[tokio::test]
async fn the_cookie_session_needs_its_csrf_token_and_rates_and_bodies_are_bounded() {
    let (ns, api, _dir) = setup("auth-cookie", &["--rate-per-user", "5", "--logins-per-minute", "3"]).await;
    add_users(&ns, &[("otto", &["operator"])]);
    let (status, head, body) = post_json(
        api.port,
        "/api/v1/auth/login",
        None,
        &json!({"username": "otto", "password": "pw-otto", "session": "cookie"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("accessToken").is_none(), "a cookie session keeps its tokens out of the page: {body}");
    let cookies: BTreeMap<String, String> = head
        .lines()
        .filter_map(|l| l.strip_prefix("set-cookie: "))
        .map(|c| {
            let (pair, attributes) = c.split_once(';').expect("attributes");
            let (name, value) = pair.split_once('=').expect("pair");
            assert!(attributes.contains("SameSite=Strict"), "{c}");
            (name.to_string(), format!("{value}|{attributes}"))
        })
        .collect();
    let value = |name: &str| cookies[name].split('|').next().expect("value").to_string();
    assert!(
        cookies["driftmgr_access"].contains("HttpOnly") && cookies["driftmgr_refresh"].contains("HttpOnly")
    );
    assert!(!cookies["driftmgr_csrf"].contains("HttpOnly"), "the page reads the CSRF cookie");
    let cookie_header =
        format!("driftmgr_access={}; driftmgr_csrf={}", value("driftmgr_access"), value("driftmgr_csrf"));
    let (status, _, me) = send(api.port, "GET", "/api/v1/auth/me", &[("Cookie", &cookie_header)], "").await;
    assert_eq!((status, me["user"].as_str()), (200, Some("otto")), "{me}");
    let trigger = format!("/api/v1/scans/{ns}/absent/scan");
    let (status, _, forged) = send(api.port, "POST", &trigger, &[("Cookie", &cookie_header)], "").await;
    assert_eq!(status, 403, "a cross-site form carries the cookie but not the header: {forged}");
    let csrf = value("driftmgr_csrf");
    let (status, _, _) =
        send(api.port, "POST", &trigger, &[("Cookie", &cookie_header), ("X-CSRF-Token", &csrf)], "").await;
    assert_eq!(status, 404, "with the header it reaches the handler (no such scan)");

    // Hardening on every response.
    let (_, head, _) = call(api.port, "GET", "/api/v1/scans", None).await;
    let head = head.to_ascii_lowercase();
    for header in [
        "x-request-id: ",
        "x-content-type-options: nosniff",
        "x-frame-options: deny",
        "content-security-policy: default-src 'self'",
        "cache-control: no-store",
    ] {
        assert!(head.contains(header), "{header} in {head}");
    }
    assert!(!head.contains("access-control-allow-origin"), "no CORS");
    let big = "x".repeat(70 * 1024);
    let (status, _, _) =
        send(api.port, "POST", "/api/v1/auth/login", &[("Content-Type", "application/json")], &big).await;
    assert_eq!(status, 413, "the body limit");

    // Per-user rate: 5 a second, then 429 with Retry-After.
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..10 {
        let (status, head, _) =
            send(api.port, "GET", "/api/v1/auth/me", &[("Cookie", &cookie_header)], "").await;
        if status == 429 {
            retry_after = head.lines().find_map(|l| l.strip_prefix("retry-after: ").map(str::to_string));
        }
        statuses.push(status);
    }
    assert!(statuses.contains(&429) && statuses[0] == 200, "{statuses:?}");
    assert!(retry_after.is_some_and(|s| s.parse::<u64>().is_ok_and(|n| n >= 1)), "Retry-After in seconds");
    // Login attempts: 3 a minute from one address (one was used above).
    let codes: Vec<u16> = login_codes(api.port).await;
    assert_eq!(codes, [401, 401, 429], "{codes:?}");
}

async fn login_codes(port: u16) -> Vec<u16> {
    let mut codes = Vec::new();
    for _ in 0..3 {
        codes.push(login(port, "otto", "guess").await.0);
    }
    codes
}
