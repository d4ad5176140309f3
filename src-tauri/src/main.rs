// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    // Tally runs itself with this argument to read a PDF's text apart from the app (a
    // parser meeting a hostile file must not take the window down): see `tally_attach::pdf`.
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == tally_app::READ_PDF_ARG)
    {
        return tally_core::read_pdf_child();
    }
    tally_app::run();
    std::process::ExitCode::SUCCESS
}
