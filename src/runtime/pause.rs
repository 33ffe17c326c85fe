//! podtui's own pause image, built locally and offline the way podman builds `localhost/podman-pause`: the
//! static pause program (assets/pause/pause.rs, compiled by the build script and embedded in podtui) is put
//! alone in an in-memory tar and imported as `localhost/podtui-pause:<version>` with `ENTRYPOINT ["/pause"]`.

use super::ContainerRuntime;
use super::error::{RtResult, RuntimeError};

/// The pause program, built by `build.rs`.
pub static PAUSE_BINARY: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/pause"));

/// The pause program's version: podtui's version and a hash of the program's source.
pub const PAUSE_VERSION: &str = env!("PODTUI_PAUSE_VERSION");

/// The reference of podtui's pause image.
pub fn pause_image() -> String {
    format!("localhost/podtui-pause:{PAUSE_VERSION}")
}

/// The image tarball: `/pause`, mode 0755.
pub fn pause_tar() -> std::io::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(PAUSE_BINARY.len() as u64);
    header.set_mode(0o755);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header.set_cksum();
    builder.append_data(&mut header, "pause", PAUSE_BINARY)?;
    builder.into_inner()
}

/// Makes sure podtui's pause image exists, importing it if it is missing. Returns the reference.
pub async fn ensure_pause_image(rt: &dyn ContainerRuntime) -> RtResult<String> {
    let image = pause_image();
    if rt.image_id(&image).await?.is_some() {
        return Ok(image);
    }
    let tar =
        pause_tar().map_err(|e| RuntimeError::failed("build the pause image", e.to_string()))?;
    rt.import_image(&image, r#"ENTRYPOINT ["/pause"]"#, tar)
        .await?;
    tracing::info!(image, "imported podtui's pause image");
    Ok(image)
}
