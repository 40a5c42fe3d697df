//! Serving the Admin UI's files from a folder (the npm package's `ui/dist`), so the hosted UI
//! is not needed.

use std::convert::Infallible;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response, StatusCode};

use crate::engine::ResponseBody;
use crate::engine::{plain, typed};

/// A tower service that answers GET requests with the files of one folder: `/` and a path that
/// ends with `/` with its `index.html`; a path that leaves the folder, or names no file, with
/// 404. Mount it under a prefix with axum's `nest_service` (the UI's own links are relative).
///
/// ```no_run
/// use sio_server::admin::UiFiles;
///
/// // `npm install @socket.io/admin-ui`, then serve its UI at /admin-ui/:
/// let ui = UiFiles::new("node_modules/@socket.io/admin-ui/ui/dist");
/// # drop(ui);
/// ```
#[derive(Clone, Debug)]
pub struct UiFiles {
    folder: Arc<PathBuf>,
}

impl UiFiles {
    /// The files of `folder`.
    pub fn new(folder: impl Into<PathBuf>) -> Self {
        UiFiles {
            folder: Arc::new(folder.into()),
        }
    }
}

/// The file `path` names inside `folder`, if it stays inside: no `..`, no backslash, no NUL, no
/// `:` (which names a drive on Windows).
fn resolve(folder: &Path, path: &str) -> Option<PathBuf> {
    let relative = path.trim_start_matches('/');
    let relative = if relative.is_empty() || relative.ends_with('/') {
        format!("{relative}index.html")
    } else {
        relative.to_owned()
    };
    let safe = relative
        .split('/')
        .all(|part| !part.is_empty() && part != "." && part != "..")
        && !relative.contains(['\\', '\0', ':']);
    safe.then(|| folder.join(relative))
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|ext| ext.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}

impl<B> tower_service::Service<Request<B>> for UiFiles {
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let file = resolve(&self.folder, request.uri().path());
        Box::pin(async move {
            let not_found = || plain(StatusCode::NOT_FOUND, "Not Found");
            let Some(file) = file else {
                return Ok(not_found());
            };
            let kind = content_type(&file);
            let read = tokio::task::spawn_blocking(move || std::fs::read(file)).await;
            Ok(match read {
                Ok(Ok(bytes)) => typed(StatusCode::OK, kind, bytes),
                _ => not_found(),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::resolve;
    use std::path::Path;

    #[test]
    fn paths_stay_in_the_folder() {
        let folder = Path::new("/ui");
        assert_eq!(resolve(folder, "/"), Some(folder.join("index.html")));
        assert_eq!(
            resolve(folder, "/js/app.js"),
            Some(folder.join("js/app.js"))
        );
        assert_eq!(
            resolve(folder, "/css/"),
            Some(folder.join("css/index.html"))
        );
        for bad in [
            "/../etc/passwd",
            "/js/../../x",
            "/a//b",
            "/a\\b",
            "/./x",
            "/C:/win.ini",
        ] {
            assert_eq!(resolve(folder, bad), None, "{bad}");
        }
    }
}
