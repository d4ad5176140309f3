//! An empty Tauri v2 window: the baseline Tally's size, memory and launch time are measured
//! against in `cargo xtask bench`. It must stay empty: one static page, no commands, no
//! plugins.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    tauri::Builder::default()
        .run(tauri::generate_context!())
        .expect("the empty window runs");
}
