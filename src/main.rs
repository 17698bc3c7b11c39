fn main() -> std::process::ExitCode {
    nestguard::cli::main()
}
