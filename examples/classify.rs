//! Print the class of every line of a file (debugging aid).
use tracesift::reader::{read_input, ReadOptions};
use tracesift::record::Record;

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: classify FILE [CLASS]");
    let want = std::env::args().nth(2);
    let f = std::fs::File::open(&path).expect("open");
    let mut sink = |r: &Record<'_>| {
        let name = r.class.name();
        if want.as_deref().is_none_or(|w| w == name) {
            println!(
                "{}\t{}\t{}",
                r.pos.line,
                name,
                String::from_utf8_lossy(r.original)
            );
        }
    };
    read_input(0, f, &ReadOptions::default(), &mut sink);
}
