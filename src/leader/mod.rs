//! Leader election on a `coordination.k8s.io/v1` Lease.
//!
//! kube-lease-manager acquires and renews the lease. On its own it keeps reporting
//! leadership while renewals fail (it logs the error and retries), so a replica cut
//! off from the API server would go on reconciling after its lease expired and a
//! standby took over. The watchdog here closes that gap: leadership is published only
//! while the lease, as last read back from the API server, names this replica and
//! has not expired by this replica's clock. The same read-back lets a standby
//! notice a released lease at once instead of sleeping until it would have expired.

use std::pin::Pin;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::{Api, Client};
use kube_lease_manager::{LeaseManager, LeaseManagerBuilder, LeaseManagerError};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{info, warn};

/// Lease settings.
#[derive(Clone, Debug)]
pub struct LeaderConfig {
    pub lease_name: String,
    pub namespace: String,
    /// This replica's identity, written as the lease holder.
    pub identity: String,
    /// How long a lease is valid after its last renewal.
    pub lease_duration: Duration,
    /// How often the holder renews. Must be shorter than `lease_duration`.
    pub renew_interval: Duration,
}

/// Errors of leader election.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("lease settings are invalid: {0}")]
    InvalidConfig(String),
    #[error("lease manager failed: {0}")]
    LeaseManager(#[from] LeaseManagerError),
}

impl LeaderConfig {
    /// Whole seconds for the lease duration and the renew-ahead grace, as
    /// kube-lease-manager takes them: it renews `grace` seconds before expiry, so
    /// grace = duration - renew interval.
    fn duration_and_grace(&self) -> Result<(u64, u64), Error> {
        let duration = self.lease_duration.as_secs();
        let renew = self.renew_interval.as_secs();
        // A leader steps down one renew interval before its lease ends (see `elect`),
        // so the lease must outlast two intervals to be held at all.
        if renew == 0 || duration <= 2 * renew {
            return Err(Error::InvalidConfig(format!(
                "--lease-renew-interval ({renew}s) must be at least 1s and less than half of --lease-duration ({duration}s)"
            )));
        }
        Ok((duration, duration - renew))
    }

    async fn build_manager(&self, client: &Client) -> Result<LeaseManager, Error> {
        let (duration, grace) = self.duration_and_grace()?;
        Ok(LeaseManagerBuilder::new(client.clone(), &self.lease_name)
            .with_namespace(&self.namespace)
            .with_identity(&self.identity)
            .with_duration(duration)
            .with_grace(grace)
            .with_field_manager(format!("driftmgr-lease-{}", self.identity))
            .build()
            .await?)
    }
}

/// A running election. `subscribe` tells whether this replica leads right now.
pub struct LeaderElection {
    leader: watch::Receiver<bool>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl LeaderElection {
    /// Checks the settings, creates the lease if needed and starts competing for it
    /// in the background.
    pub async fn start(client: Client, config: LeaderConfig) -> Result<Self, Error> {
        let first = config.build_manager(&client).await?;
        let (leader_tx, leader_rx) = watch::channel(false);
        let (stop_tx, stop_rx) = watch::channel(false);
        let task = tokio::spawn(elect(client, config, first, leader_tx, stop_rx));
        Ok(Self { leader: leader_rx, stop: stop_tx, task })
    }

    /// A receiver of leadership changes (true while this replica leads).
    pub fn subscribe(&self) -> watch::Receiver<bool> {
        self.leader.clone()
    }

    /// Steps down and releases the lease so a standby takes over at once.
    pub async fn release(self) {
        let _ = self.stop.send(true);
        if let Err(error) = self.task.await {
            warn!(%error, "leader election task ended abnormally");
        }
    }
}

type Pending<'a> = Pin<Box<dyn Future<Output = Result<bool, LeaseManagerError>> + Send + 'a>>;

/// The election loop: kube-lease-manager's `changed()` acquires and renews; every
/// check interval the lease is read back, to fence leadership on its expiry (as
/// leader) and to notice a released lease at once (as standby: the manager would
/// otherwise sleep until the previous holder's lease expired).
async fn elect(
    client: Client,
    config: LeaderConfig,
    first: LeaseManager,
    leader_tx: watch::Sender<bool>,
    mut stop_rx: watch::Receiver<bool>,
) {
    let leases: Api<Lease> = Api::namespaced(client.clone(), &config.namespace);
    let check_every = (config.renew_interval / 2).max(Duration::from_millis(250));
    let mut next_manager = Some(first);
    'managers: loop {
        let manager = match next_manager.take() {
            Some(manager) => manager,
            None => match config.build_manager(&client).await {
                Ok(manager) => manager,
                Err(error) => {
                    warn!(%error, "could not set up the lease manager; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(config.renew_interval) => continue 'managers,
                        _ = stop_rx.changed() => break 'managers,
                    }
                }
            },
        };
        let mut manager_says_leader = false;
        let mut confirmed_until: Option<Timestamp> = None;
        let mut pending: Pending<'_> = Box::pin(manager.changed());
        loop {
            tokio::select! {
                result = &mut pending => {
                    match result {
                        Ok(leading) => {
                            manager_says_leader = leading;
                            pending = Box::pin(manager.changed());
                        }
                        Err(error) => {
                            warn!(%error, "lease update failed; retrying");
                            let manager = &manager;
                            let pause = config.renew_interval / 2;
                            pending = Box::pin(async move {
                                tokio::time::sleep(pause).await;
                                manager.changed().await
                            });
                        }
                    }
                }
                _ = tokio::time::sleep(check_every) => {
                    // Bounded: a leader cut off from the API server must get here again
                    // well before its lease runs out, to see that it has.
                    let read = tokio::time::timeout(check_every, leases.get_opt(&config.lease_name)).await;
                    match read.unwrap_or_else(|_| Err(kube::Error::Service("lease read timed out".into()))) {
                        Ok(lease) => {
                            confirmed_until = lease.as_ref().and_then(|l| held_until(l, &config.identity));
                            let released = lease.as_ref().is_some_and(is_released);
                            if !manager_says_leader && released {
                                info!(lease = %config.lease_name, "lease released by its holder; competing now");
                                drop(pending);
                                continue 'managers;
                            }
                        }
                        Err(error) => warn!(%error, "could not read back the leader lease"),
                    }
                }
                _ = stop_rx.changed() => {
                    let _ = leader_tx.send(false);
                    drop(pending);
                    match tokio::time::timeout(config.renew_interval, manager.release()).await {
                        Ok(Ok(())) => info!(identity = %config.identity, "released the leader lease"),
                        Ok(Err(error)) => warn!(%error, "releasing the leader lease failed"),
                        Err(_) => warn!("releasing the leader lease timed out; it expires on its own"),
                    }
                    break 'managers;
                }
            }
            // Steps down a margin before the lease runs out: this check runs at least
            // every two check intervals (a sleep, then a read bounded by the same), so a
            // leader cut off from the API server has stopped before anyone else can lead.
            let margin = SignedDuration::try_from(check_every * 2).unwrap_or(SignedDuration::ZERO);
            let leading = manager_says_leader
                && confirmed_until.is_some_and(|until| {
                    Timestamp::now().checked_add(margin).is_ok_and(|now_with_margin| now_with_margin < until)
                });
            if leading != *leader_tx.borrow() {
                if leading {
                    info!(identity = %config.identity, lease = %config.lease_name, "acquired leadership");
                } else {
                    warn!(identity = %config.identity, lease = %config.lease_name, "lost leadership");
                }
                let _ = leader_tx.send(leading);
            }
        }
    }
}

/// Whether the lease has no holder (its last holder released it).
fn is_released(lease: &Lease) -> bool {
    lease.spec.as_ref().and_then(|s| s.holder_identity.as_deref()).is_none_or(str::is_empty)
}

/// When the lease stops being ours, if `identity` holds it.
fn held_until(lease: &Lease, identity: &str) -> Option<Timestamp> {
    let spec = lease.spec.as_ref()?;
    if spec.holder_identity.as_deref() != Some(identity) {
        return None;
    }
    let renewed = spec.renew_time.as_ref().or(spec.acquire_time.as_ref())?.0;
    let seconds = i64::from(spec.lease_duration_seconds?);
    renewed.checked_add(SignedDuration::from_secs(seconds)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::coordination::v1::LeaseSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;

    fn lease(holder: &str, renewed_secs: i64, duration: i32) -> Lease {
        Lease {
            spec: Some(LeaseSpec {
                holder_identity: Some(holder.into()),
                renew_time: Some(MicroTime(Timestamp::from_second(renewed_secs).expect("valid"))),
                lease_duration_seconds: Some(duration),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn held_until_is_renew_time_plus_duration_for_the_holder() {
        let until = held_until(&lease("a", 1_000, 15), "a");
        assert_eq!(until, Some(Timestamp::from_second(1_015).expect("valid")));
    }

    #[test]
    fn held_until_is_none_for_another_holder() {
        assert_eq!(held_until(&lease("b", 1_000, 15), "a"), None);
    }

    #[test]
    fn lease_without_holder_is_released() {
        let mut released = lease("a", 1_000, 15);
        released.spec.as_mut().expect("spec").holder_identity = None;
        assert!(is_released(&released));
        assert!(!is_released(&lease("a", 1_000, 15)));
    }

    #[test]
    fn renew_interval_must_be_shorter_than_duration() {
        let config = |duration, renew| LeaderConfig {
            lease_name: "l".into(),
            namespace: "n".into(),
            identity: "i".into(),
            lease_duration: Duration::from_secs(duration),
            renew_interval: Duration::from_secs(renew),
        };
        assert_eq!(config(15, 5).duration_and_grace().ok(), Some((15, 10)));
        assert!(config(5, 5).duration_and_grace().is_err());
        assert!(config(10, 5).duration_and_grace().is_err(), "the step-down margin would eat the lease");
        assert!(config(5, 0).duration_and_grace().is_err());
    }
}
