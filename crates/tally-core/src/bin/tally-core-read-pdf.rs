//! Reads a PDF's text in a process of its own, for the engine's tests (the app runs its
//! own executable with `--read-pdf` instead). See `tally_attach::read_pdf`.

fn main() -> std::process::ExitCode {
    tally_attach::read_pdf_child()
}
