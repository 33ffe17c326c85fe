//! The terminal's modes while the UI runs (raw mode, alternate screen, mouse capture, hidden cursor), restored
//! on every exit path: normal return, error, panic (through a panic hook), and while suspended for a shell or
//! an external editor.

use std::io::{Write, stdout};
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::cursor::{Hide, Show};
use crossterm::event::{DisableBracketedPaste, DisableMouseCapture, EnableMouseCapture};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};

static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Puts the terminal into the UI's modes.
pub fn enter(mouse: bool) -> std::io::Result<()> {
    enable_raw_mode()?;
    let mut out = stdout();
    execute!(out, EnterAlternateScreen, Hide)?;
    if mouse {
        execute!(out, EnableMouseCapture)?;
    }
    ACTIVE.store(true, Ordering::SeqCst);
    Ok(())
}

/// Restores the terminal the way it was before [`enter`]. Safe to call more than once.
pub fn restore() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    let mut out = stdout();
    let _ = execute!(
        out,
        DisableMouseCapture,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        Show
    );
    let _ = disable_raw_mode();
    let _ = out.flush();
}

/// Turns mouse capture on or off.
pub fn set_mouse(on: bool) {
    let mut out = stdout();
    let _ = if on {
        execute!(out, EnableMouseCapture)
    } else {
        execute!(out, DisableMouseCapture)
    };
}

/// Leaves the UI's screen for a child program; `raw` keeps raw mode (a TTY exec wants raw input).
pub fn suspend(raw: bool) {
    let mut out = stdout();
    let _ = execute!(out, DisableMouseCapture, LeaveAlternateScreen, Show);
    if !raw {
        let _ = disable_raw_mode();
    }
    let _ = out.flush();
}

/// Comes back after [`suspend`]: resets the modes a child program may have changed (bracketed paste,
/// application cursor keys and keypad, colours), then the UI's own.
pub fn resume(mouse: bool) -> std::io::Result<()> {
    enable_raw_mode()?;
    let mut out = stdout();
    out.write_all(b"\x1b[0m\x1b[?2004l\x1b[?1l\x1b>")?;
    execute!(out, EnterAlternateScreen, Hide)?;
    if mouse {
        execute!(out, EnableMouseCapture)?;
    }
    out.flush()
}

/// Installs a panic hook that restores the terminal before the panic is reported (chained to the existing hook,
/// color-eyre's).
pub fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}
