//! Object stores for state buckets that do not belong to the scanned cloud's account:
//! GCS with a service-account key, Azure Blob with an account key or a SAS token.

use object_store::ObjectStore;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;

use super::source::StateReadError;

/// How an Azure Blob container is read.
#[derive(Clone, Debug)]
pub enum AzureCredential {
    AccessKey(String),
    /// A SAS token (`sv=...&sig=...`, with or without the leading `?`).
    SasToken(String),
}

fn invalid(origin: &str, what: &str) -> StateReadError {
    StateReadError::Io { origin: origin.into(), message: what.into() }
}

/// A GCS bucket read with `service_account_json` (a key file's contents).
pub fn gcs_store(bucket: &str, service_account_json: &str) -> Result<Box<dyn ObjectStore>, StateReadError> {
    let origin = format!("gs://{bucket}");
    if serde_json::from_str::<serde_json::Value>(service_account_json).is_err() {
        return Err(invalid(&origin, "the service-account key is not JSON"));
    }
    let store = GoogleCloudStorageBuilder::new()
        .with_bucket_name(bucket)
        .with_service_account_key(service_account_json)
        .build()
        .map_err(|_| invalid(&origin, "the service-account key is not usable"))?;
    Ok(Box::new(store))
}

/// An Azure Blob container; `endpoint` overrides `https://{account}.blob.core.windows.net`.
pub fn azure_store(
    account: &str,
    container: &str,
    credential: &AzureCredential,
    endpoint: Option<&str>,
) -> Result<Box<dyn ObjectStore>, StateReadError> {
    let origin = format!("azblob://{account}/{container}");
    let mut builder = MicrosoftAzureBuilder::new().with_account(account).with_container_name(container);
    builder = match credential {
        AzureCredential::AccessKey(key) => builder.with_access_key(key),
        AzureCredential::SasToken(token) => {
            let pairs: Vec<(String, String)> = token
                .trim_start_matches('?')
                .split('&')
                .filter_map(|pair| pair.split_once('='))
                .map(|(k, v)| (k.to_string(), percent_decode(v)))
                .collect();
            if pairs.is_empty() {
                return Err(invalid(&origin, "the SAS token has no parameters"));
            }
            builder.with_sas_authorization(pairs)
        }
    };
    if let Some(endpoint) = endpoint {
        builder =
            builder.with_endpoint(endpoint.to_string()).with_allow_http(endpoint.starts_with("http://"));
    }
    Ok(Box::new(
        builder.build().map_err(|_| invalid(&origin, "the storage account settings are not usable"))?,
    ))
}

/// Decodes `%XX` escapes (a SAS token's signature is usually URL-encoded).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sas_signatures_are_decoded_and_bad_keys_named() {
        assert_eq!(percent_decode("a%2Bb%3D%3D"), "a+b==");
        assert_eq!(percent_decode("100%"), "100%");
        let Err(error) = gcs_store("tf-states", "not json") else { panic!("refused") };
        assert_eq!(error.to_string(), "gs://tf-states: the service-account key is not JSON");
    }
}
