//! The one archive both sides build: a tar holding one file, whose bytes never vary (an image
//! layer on the registry side, a build context holding a Dockerfile on the client side).

/// A tar holding one file (mode 0644, mtime 0).
pub fn one_file_tar(path: &str, content: &str) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_path(path).expect("a relative one-component path");
    header.set_size(content.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_cksum();
    tar.append(&header, content.as_bytes()).expect("in-memory tar");
    tar.into_inner().expect("in-memory tar")
}
