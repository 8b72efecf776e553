//! The API's Secrets in its own namespace: the token signing key, users, API keys and
//! refresh-token families. Every replica reads them (briefly cached) and changes them
//! with a resourceVersion-checked replace, so two replicas never lose each other's
//! writes and a refresh token is rotated exactly once.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{ObjectMeta, PostParams};
use kube::{Api, Client};
use ring::rand::{SecureRandom, SystemRandom};

/// Conflicting writes in a row before a change gives up.
const ATTEMPTS: usize = 10;

/// Why a Secret could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("Secret {0} is busy: {ATTEMPTS} concurrent writes in a row")]
    Contended(String),
    #[error("Secret {name}: {reason}")]
    Invalid { name: String, reason: String },
    #[error(transparent)]
    Kube(#[from] kube::Error),
}

/// `n` random bytes from the system's generator.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; n];
    // The system generator fails only where the OS has no entropy source at all.
    SystemRandom::new().fill(&mut bytes).expect("the system random generator");
    bytes
}

/// The data of one Secret.
pub type SecretData = BTreeMap<String, Vec<u8>>;

/// One Secret of the API's namespace, read at most once per `ttl` per replica.
pub struct CachedSecret {
    api: Api<Secret>,
    name: String,
    ttl: Duration,
    cached: Mutex<Option<(Instant, std::sync::Arc<SecretData>)>>,
}

fn data_of(secret: Secret) -> SecretData {
    secret.data.unwrap_or_default().into_iter().map(|(k, v)| (k, v.0)).collect()
}

impl CachedSecret {
    pub fn new(client: &Client, namespace: &str, name: &str, ttl: Duration) -> Self {
        Self {
            api: Api::namespaced(client.clone(), namespace),
            name: name.to_string(),
            ttl,
            cached: Mutex::new(None),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The Secret's data (empty when it does not exist), at most `ttl` old.
    pub async fn data(&self) -> Result<std::sync::Arc<SecretData>, SecretError> {
        if let Some((at, data)) = self.cached.lock().unwrap_or_else(|p| p.into_inner()).as_ref()
            && at.elapsed() < self.ttl
        {
            return Ok(data.clone());
        }
        self.refresh().await
    }

    /// The Secret's data, read now.
    pub async fn refresh(&self) -> Result<std::sync::Arc<SecretData>, SecretError> {
        let data = std::sync::Arc::new(self.api.get_opt(&self.name).await?.map(data_of).unwrap_or_default());
        *self.cached.lock().unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), data.clone()));
        Ok(data)
    }

    /// Changes the Secret's data with `change`, which sees the current data and returns
    /// what it decided (or an error, which writes nothing). Creates the Secret when it
    /// does not exist; writes nothing when the data stays the same. The write carries the resourceVersion read; on a conflict the
    /// change runs again on the newer data.
    pub async fn update<T, E>(
        &self,
        mut change: impl FnMut(&mut SecretData) -> Result<T, E>,
    ) -> Result<Result<T, E>, SecretError> {
        for _ in 0..ATTEMPTS {
            let current = self.api.get_opt(&self.name).await?;
            let exists = current.is_some();
            let mut secret = current.unwrap_or_else(|| Secret {
                metadata: ObjectMeta {
                    name: Some(self.name.clone()),
                    labels: Some([("app.kubernetes.io/managed-by".into(), "driftmgr".into())].into()),
                    ..Default::default()
                },
                type_: Some("Opaque".into()),
                ..Default::default()
            });
            let before = data_of(secret.clone());
            let mut data = before.clone();
            let decided = match change(&mut data) {
                Ok(decided) => decided,
                Err(refused) => return Ok(Err(refused)),
            };
            if exists && data == before {
                return Ok(Ok(decided));
            }
            secret.data = Some(data.iter().map(|(k, v)| (k.clone(), ByteString(v.clone()))).collect());
            secret.string_data = None;
            let written = if exists {
                self.api.replace(&self.name, &PostParams::default(), &secret).await
            } else {
                self.api.create(&PostParams::default(), &secret).await
            };
            match written {
                Ok(_) => {
                    *self.cached.lock().unwrap_or_else(|p| p.into_inner()) =
                        Some((Instant::now(), std::sync::Arc::new(data)));
                    return Ok(Ok(decided));
                }
                Err(kube::Error::Api(status)) if status.code == 409 => continue,
                Err(error) => return Err(error.into()),
            }
        }
        Err(SecretError::Contended(self.name.clone()))
    }

    /// Like `update`, for a change that cannot refuse.
    pub async fn modify<T>(&self, mut change: impl FnMut(&mut SecretData) -> T) -> Result<T, SecretError> {
        let outcome = self.update(|data| Ok::<_, std::convert::Infallible>(change(data))).await?;
        Ok(outcome.unwrap_or_else(|never| match never {}))
    }

    /// The value of `key`, made by `make` by whichever replica gets there first when
    /// the Secret or the key does not exist yet (one read when it does).
    pub async fn ensure(&self, key: &str, make: impl Fn() -> Vec<u8>) -> Result<Vec<u8>, SecretError> {
        self.modify(|data| data.entry(key.to_string()).or_insert_with(&make).clone()).await
    }
}
