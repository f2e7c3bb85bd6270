//! Lists EVTX files with dirty headers or bad chunk checksums.
#![allow(missing_docs)]
fn main() -> anyhow::Result<()> {
    let paths: Vec<std::path::PathBuf> = std::env::args_os().skip(1).map(Into::into).collect();
    let (files, _) = ir110_eventlog::discover(&paths);
    for f in files {
        let Ok(mut p) = evtx::EvtxParser::from_path(&f) else {
            println!("HDRERR {}", f.display());
            continue;
        };
        let flags = format!("{:?}", p.header().flags);
        let hdr_chunks = p.header().chunk_count;
        let mut bad = 0;
        let mut n = 0;
        let mut errs = 0;
        for c in p.chunks() {
            match c {
                Ok(c) => {
                    n += 1;
                    if !c.validate_checksum() {
                        bad += 1;
                    }
                }
                Err(_) => errs += 1,
            }
        }
        let mut ok = 0;
        let mut rerr = 0;
        for r in p.records_json() {
            if r.is_ok() { ok += 1 } else { rerr += 1 }
        }
        if bad > 0 || errs > 0 || rerr > 0 || flags.contains("Dirty") || flags.contains("Full") {
            println!(
                "{}\tflags={flags} hdr_chunks={hdr_chunks} chunks={n} badcrc={bad} chunkerr={errs} ok={ok} rerr={rerr}",
                f.display()
            );
        }
    }
    Ok(())
}
