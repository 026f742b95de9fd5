//! The state every request shares: configuration, organisation definition,
//! store, cache and templates, plus the one helper that runs blocking store
//! calls off the async executor.

use std::sync::Arc;

use hitcore::Organisation;
use hitcore::cache::{Cache, CacheError, read::TreeMemo};
use hitcore::storage::{Storage, StorageError};
use hitcore::store::{Store, StoreError};

use crate::config::Config;
use crate::error::WebError;
use crate::templates::Templates;

/// Shared by all requests; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub org: Arc<Organisation>,
    pub store: Arc<dyn Store>,
    /// Export files and person pictures (`STORAGE_URL`); blocking, like
    /// the store.
    pub storage: Storage,
    /// What the requests cache (`MEMCACHE_SERVERS`, else this process's
    /// memory): blocking, like the store, and keyed by the stamps the
    /// store hands out (see [`hitcore::cache`]).
    pub cache: Arc<dyn Cache>,
    /// The group tree this process built last, shared by the requests
    /// until the groups change.
    pub tree: Arc<TreeMemo>,
    pub templates: Arc<Templates>,
    /// What `/readyz` remembers between probes.
    pub probes: Arc<crate::routes::health::Probes>,
}

/// Why the shared state could not be made.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("while loading the templates")]
    Templates(#[source] minijinja::Error),
    #[error("while opening the storage ({location})")]
    Storage {
        location: String,
        #[source]
        source: StorageError,
    },
    #[error("while opening the cache")]
    Cache(#[source] CacheError),
}

impl AppState {
    /// Bundles the parts; the templates are loaded and the storage and
    /// the cache of the configuration are opened here (a memcached that
    /// does not answer yet is asked once, within its connect timeout, and
    /// warned about).
    ///
    /// # Errors
    /// A template that does not parse, a storage folder that cannot be
    /// created, a `MEMCACHE_SERVERS` that lists no servers.
    pub fn new(
        config: Config,
        org: Arc<Organisation>,
        store: Arc<dyn Store>,
    ) -> Result<AppState, StateError> {
        let storage = Storage::open(&config.storage).map_err(|source| StateError::Storage {
            location: config.storage.to_string(),
            source,
        })?;
        let cache =
            hitcore::cache::open(config.memcache_servers.as_deref()).map_err(StateError::Cache)?;
        Ok(AppState {
            config: Arc::new(config),
            org,
            store,
            storage,
            cache,
            tree: Arc::new(TreeMemo::default()),
            templates: Arc::new(Templates::load().map_err(StateError::Templates)?),
            probes: Arc::default(),
        })
    }

    /// Runs blocking store calls on tokio's blocking pool; store errors
    /// become web errors (not found is a 404, the rest a 500).
    ///
    /// # Errors
    /// The mapped store error, or a 500 when the task panicked.
    pub async fn db<T, F>(&self, f: F) -> Result<T, WebError>
    where
        F: FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        self.db_raw(f).await?.map_err(WebError::from)
    }

    /// As [`AppState::db`], but hands store errors back unmapped, for the
    /// callers that turn a conflict into a form message.
    ///
    /// # Errors
    /// A 500 when the task panicked.
    pub async fn db_raw<T, F>(&self, f: F) -> Result<Result<T, StoreError>, WebError>
    where
        F: FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let store = Arc::clone(&self.store);
        // The request's Sentry hub goes along, so that a panic in the store
        // call is reported with the request id.
        let hub = sentry::Hub::current();
        tokio::task::spawn_blocking(move || sentry::Hub::run(hub, || f(&*store)))
            .await
            .map_err(WebError::internal)
    }
}
