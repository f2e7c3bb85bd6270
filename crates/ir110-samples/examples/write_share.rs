//! Writes the sample share for a seed into a folder: `cargo run -p ir110-samples --example
//! write_share -- OUT_DIR [SEED] [--attack]`. With `--attack`, the share is encrypted
//! (header mode, 4 KiB, `.locked`) and ransom notes are dropped, as `ir110 demo` would show.

use std::path::PathBuf;

use ir110_samples::damage::{Mode, NoteStyle, Rename};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(out) = args.first().map(PathBuf::from) else {
        eprintln!("usage: write_share OUT_DIR [SEED] [--attack]");
        std::process::exit(2);
    };
    let seed = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1);
    let mut files = ir110_samples::file_share(seed);
    if args.iter().any(|a| a == "--attack") {
        files = ir110_samples::attack(
            &files,
            &Mode::Header(4096),
            &Rename::Append("locked".into()),
            NoteStyle::Japanese,
            seed,
        );
    }
    for f in &files {
        let path = out.join(&f.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, &f.bytes)?;
    }
    println!("{} files written to {}", files.len(), out.display());
    Ok(())
}
