//! Writing the command line's output. A reader that goes away
//! (`nestguard check 2>&1 | head`) ends the output quietly: `println!`
//! would panic on the closed pipe and print a backtrace instead.

/// Like `println!`, ignoring a closed or failing standard output.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// Like `print!`, ignoring a closed or failing standard output.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut stdout = std::io::stdout().lock();
        let _ = write!(stdout, $($arg)*);
        let _ = stdout.flush();
    }};
}

/// Like `eprintln!`, ignoring a closed or failing standard error.
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

pub(crate) use {errln, out, outln};
