//! State served over HTTP: Terraform's http backend (GET of the state's address, with
//! basic auth or an Authorization header, and optionally a private CA), and Terraform
//! Cloud/Enterprise workspaces (the current state version of one workspace, or of
//! every workspace whose name starts with a prefix or that has given tags).
//! Credentials never appear in an origin or an error.

use futures::StreamExt;
use serde_json::Value;

use super::source::{MAX_STATE_BYTES, StateReadError};
use super::{AttributeFilter, StateFile, parse_state_keeping};

/// How a request authenticates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum HttpAuth {
    #[default]
    None,
    /// The http backend's `username` and `password`.
    Basic { username: String, password: String },
    /// A whole `Authorization` header value (`Bearer ...`).
    Header(String),
}

/// Where and how to fetch.
#[derive(Clone, Debug, Default)]
pub struct HttpClientOptions {
    pub auth: HttpAuth,
    /// PEM certificates trusted besides the system's roots.
    pub ca_pem: Option<Vec<u8>>,
}

/// A URL as errors may show it: no user info, no query (either may carry a secret).
pub fn display_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.set_query(None);
            parsed.to_string()
        }
        Err(_) => "(an invalid URL)".to_string(),
    }
}

fn client(options: &HttpClientOptions, origin: &str) -> Result<reqwest::Client, StateReadError> {
    let io = |message: String| StateReadError::Io { origin: origin.to_string(), message };
    let mut builder = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(120))
        .connect_timeout(std::time::Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::limited(5));
    if let Some(pem) = &options.ca_pem {
        let certificates = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|_| io("the CA bundle is not PEM certificates".into()))?;
        if certificates.is_empty() {
            return Err(io("the CA bundle holds no certificate".into()));
        }
        for certificate in certificates {
            builder = builder.add_root_certificate(certificate);
        }
    }
    builder.build().map_err(|e| io(format!("the HTTP client: {e}")))
}

fn authorized(request: reqwest::RequestBuilder, auth: &HttpAuth) -> reqwest::RequestBuilder {
    match auth {
        HttpAuth::None => request,
        HttpAuth::Basic { username, password } => request.basic_auth(username, Some(password)),
        HttpAuth::Header(value) => request.header(reqwest::header::AUTHORIZATION, value),
    }
}

/// GETs `url` into memory, at most `MAX_STATE_BYTES`; `None` when the server has no
/// state there (404, or the http backend's 204).
async fn fetch(
    client: &reqwest::Client,
    url: &str,
    auth: &HttpAuth,
    origin: &str,
) -> Result<Option<Vec<u8>>, StateReadError> {
    let io = |message: String| StateReadError::Io { origin: origin.to_string(), message };
    let response = authorized(client.get(url), auth).send().await.map_err(|e| {
        // reqwest's message names the URL, query and all; say what failed instead.
        let what = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "could not connect"
        } else {
            "request failed"
        };
        io(what.to_string())
    })?;
    let status = response.status();
    match status.as_u16() {
        404 | 204 => return Ok(None),
        401 | 403 => return Err(io(format!("refused ({}): check the credentials", status.as_u16()))),
        200..=299 => {}
        code => return Err(io(format!("the server answered {code}"))),
    }
    if let Some(size) = response.content_length()
        && size > MAX_STATE_BYTES
    {
        return Err(StateReadError::TooLarge { origin: origin.into(), size, limit: MAX_STATE_BYTES });
    }
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| io("the answer was cut off".into()))?;
        body.extend_from_slice(&chunk);
        if body.len() as u64 > MAX_STATE_BYTES {
            return Err(StateReadError::TooLarge {
                origin: origin.into(),
                size: body.len() as u64,
                limit: MAX_STATE_BYTES,
            });
        }
    }
    Ok(Some(body))
}

/// Reads the state at an http backend's address.
pub async fn read_http_state(
    url: &str,
    options: &HttpClientOptions,
    keep: AttributeFilter,
) -> Result<StateFile, StateReadError> {
    let origin = display_url(url);
    let client = client(options, &origin)?;
    let bytes = fetch(&client, url, &options.auth, &origin)
        .await?
        .ok_or(StateReadError::NotFound { origin: origin.clone() })?;
    Ok(parse_state_keeping(&bytes, &origin, keep)?)
}

/// Which Terraform Cloud/Enterprise workspaces to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WorkspaceSelector {
    Name(String),
    /// Every workspace whose name starts with this.
    Prefix(String),
    /// Every workspace with all of these tags.
    Tags(Vec<String>),
}

/// A Terraform Cloud/Enterprise organization's workspaces.
#[derive(Clone, Debug)]
pub struct CloudWorkspaces {
    /// `https://app.terraform.io`, or an Enterprise host.
    pub address: String,
    pub organization: String,
    pub select: WorkspaceSelector,
    /// An API token (user, team or organization).
    pub token: String,
    pub ca_pem: Option<Vec<u8>>,
}

/// Workspaces per page (the API's largest).
const WORKSPACE_PAGE: usize = 100;
/// Pages read at most (10,000 workspaces).
const MAX_PAGES: usize = 100;

async fn json(
    client: &reqwest::Client,
    url: &str,
    auth: &HttpAuth,
    origin: &str,
) -> Result<Option<Value>, StateReadError> {
    let Some(bytes) = fetch(client, url, auth, origin).await? else { return Ok(None) };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|_| StateReadError::Io { origin: origin.into(), message: "the answer is not JSON".into() })
}

/// Reads the current state version of each selected workspace (sorted by name).
/// Workspaces without state yet are skipped when selected by prefix or tags.
pub async fn read_cloud_states(
    source: &CloudWorkspaces,
    keep: AttributeFilter,
) -> Result<Vec<StateFile>, StateReadError> {
    let base = source.address.trim_end_matches('/');
    let org = &source.organization;
    let origin = |workspace: &str| format!("tfc://{org}/{workspace}");
    let listing = match &source.select {
        WorkspaceSelector::Name(name) => origin(name),
        WorkspaceSelector::Prefix(prefix) => origin(&format!("{prefix}*")),
        WorkspaceSelector::Tags(tags) => format!("tfc://{org}/?tags={}", tags.join(",")),
    };
    let options = HttpClientOptions {
        auth: HttpAuth::Header(format!("Bearer {}", source.token)),
        ca_pem: source.ca_pem.clone(),
    };
    let client = client(&options, &listing)?;
    // (name, id) of every selected workspace.
    let mut workspaces: Vec<(String, String)> = Vec::new();
    match &source.select {
        WorkspaceSelector::Name(name) => {
            let url =
                format!("{base}/api/v2/organizations/{}/workspaces/{}", url_encode(org), url_encode(name));
            let answer = json(&client, &url, &options.auth, &listing)
                .await?
                .ok_or(StateReadError::NotFound { origin: listing.clone() })?;
            let id = answer["data"]["id"].as_str().unwrap_or_default().to_string();
            workspaces.push((name.clone(), id));
        }
        selector => {
            let filter = match selector {
                WorkspaceSelector::Prefix(prefix) => format!("search%5Bname%5D={}", url_encode(prefix)),
                WorkspaceSelector::Tags(tags) => format!("search%5Btags%5D={}", url_encode(&tags.join(","))),
                WorkspaceSelector::Name(_) => unreachable!("handled above"),
            };
            for page in 1..=MAX_PAGES {
                let url = format!(
                    "{base}/api/v2/organizations/{}/workspaces?page%5Bsize%5D={WORKSPACE_PAGE}&page%5Bnumber%5D={page}&{filter}",
                    url_encode(org)
                );
                let answer = json(&client, &url, &options.auth, &listing)
                    .await?
                    .ok_or(StateReadError::NotFound { origin: listing.clone() })?;
                for workspace in answer["data"].as_array().into_iter().flatten() {
                    let name = workspace["attributes"]["name"].as_str().unwrap_or_default().to_string();
                    // The API's name search matches anywhere in the name; a prefix is a prefix.
                    if let WorkspaceSelector::Prefix(prefix) = selector
                        && !name.starts_with(prefix.as_str())
                    {
                        continue;
                    }
                    workspaces.push((name, workspace["id"].as_str().unwrap_or_default().to_string()));
                }
                if answer["meta"]["pagination"]["next-page"].is_null() {
                    break;
                }
            }
        }
    }
    workspaces.sort();
    let mut states = Vec::new();
    for (name, id) in workspaces {
        let origin = origin(&name);
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(StateReadError::Io { origin, message: "the workspace has no valid id".into() });
        }
        let url = format!("{base}/api/v2/workspaces/{id}/current-state-version");
        let Some(version) = json(&client, &url, &options.auth, &origin).await? else {
            if matches!(source.select, WorkspaceSelector::Name(_)) {
                return Err(StateReadError::NotFound { origin });
            }
            continue;
        };
        let download =
            version["data"]["attributes"]["hosted-state-download-url"].as_str().ok_or_else(|| {
                StateReadError::Io {
                    origin: origin.clone(),
                    message: "the state version has no download URL".into(),
                }
            })?;
        // The token goes only to the host it is for; a download elsewhere is pre-signed.
        let same_host = reqwest::Url::parse(download).ok().map(|u| u.origin())
            == reqwest::Url::parse(base).ok().map(|u| u.origin());
        let auth = if same_host { options.auth.clone() } else { HttpAuth::None };
        let bytes = fetch(&client, download, &auth, &origin)
            .await?
            .ok_or(StateReadError::NotFound { origin: origin.clone() })?;
        states.push(parse_state_keeping(&bytes, &origin, keep)?);
    }
    if states.is_empty() {
        return Err(StateReadError::NoStateFiles { origin: listing });
    }
    Ok(states)
}

/// Percent-encodes a path segment or query value.
fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_in_errors_carry_no_credentials() {
        assert_eq!(
            display_url("https://bob:hunter2@state.example/net?token=abc"),
            "https://state.example/net"
        );
        assert_eq!(display_url("not a url"), "(an invalid URL)");
        assert_eq!(url_encode("team a/b"), "team%20a%2Fb");
    }
}
