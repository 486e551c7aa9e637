//! `--master-key-command` / `BATON_MASTER_KEY_COMMAND`: the master key printed by a
//! command (a secrets manager's CLI), run once at start.
//!
//! The command runs through `sh -c`, so it may be a pipeline or set variables; it gets
//! no stdin, and its stdout is the key in the key file's format (64 hex characters,
//! surrounding whitespace ignored). Errors quote neither its stdout (the key, or part
//! of it) nor the command (it may carry a token); only the exit status and the first
//! line of stderr, which is where such tools say what went wrong.

use std::process::{ExitStatus, Output, Stdio};
use std::time::Duration;

use baton_core::seal::MasterKey;

/// How long the command may run: a secrets manager answers well within it, and a start
/// that waits on a prompt or an unreachable server should fail, not hang.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// What every error starts with, so the operator knows which setting to fix.
pub const NAME: &str = "BATON_MASTER_KEY_COMMAND (--master-key-command)";

/// The longest stderr line quoted in an error, in characters.
const STDERR_QUOTE: usize = 200;

/// Runs `line` with `sh -c` and parses its stdout as a master key; errors name the
/// option `name` ([`NAME`], or `--new-key-command` of a rotation).
pub async fn run_named(line: &str, timeout: Duration, name: &str) -> anyhow::Result<MasterKey> {
    let mut command = tokio::process::Command::new("sh");
    command
        .arg("-c")
        .arg(line)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    // Its own process group, so a timeout stops what it started too (a pipeline, a
    // CLI waiting on a prompt), not only `sh`.
    #[cfg(unix)]
    command.process_group(0);
    let child = command
        .spawn()
        .map_err(|e| anyhow::anyhow!("{name}: cannot start `sh -c`: {e}"))?;
    let group = child.id();
    let mut output = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(output) => output.map_err(|e| anyhow::anyhow!("{name}: {e}"))?,
        Err(_) => {
            if let Some(group) = group {
                kill_group(group).await;
            }
            anyhow::bail!("{name} did not finish within {timeout:?}")
        }
    };
    let key = parse_output(&output, name);
    // The key's text is not left in freed memory.
    output.stdout.fill(0);
    key
}

/// Ends every process of the group `sh` led, through the shell's `kill` (the
/// workspace has no unsafe code to call kill(2) itself); a group already gone is no
/// error. The group id goes in as `$0`, never into the command's text (`-$0` with no
/// `--`: dash's `kill` takes a negative id after the signal, and refuses `--`).
async fn kill_group(group: u32) {
    let _ = tokio::process::Command::new("sh")
        .args(["-c", "kill -KILL \"-$0\"", &group.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await;
}

/// The key a finished command printed, or why there is none.
fn parse_output(output: &Output, name: &str) -> anyhow::Result<MasterKey> {
    anyhow::ensure!(
        output.status.success(),
        "{name} failed with {}{}",
        describe(output.status),
        first_line(&output.stderr).map_or(String::new(), |line| format!(": {line}"))
    );
    let not_a_key = || {
        anyhow::anyhow!(
            "{name} printed no valid master key: {}",
            baton_core::seal::KeyError::Format
        )
    };
    let text = std::str::from_utf8(&output.stdout).map_err(|_| not_a_key())?;
    anyhow::ensure!(
        !text.trim().is_empty(),
        "{name} printed nothing on stdout: it must print the master key (64 hex characters)"
    );
    MasterKey::parse_hex(text).map_err(|_| not_a_key())
}

/// `exit code N`, or the signal that ended the command.
fn describe(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit code {code}");
    }
    #[cfg(unix)]
    if let Some(signal) = std::os::unix::process::ExitStatusExt::signal(&status) {
        return format!("signal {signal}");
    }
    status.to_string()
}

/// The first non-blank line of stderr, trimmed and cut to [`STDERR_QUOTE`] characters.
fn first_line(stderr: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(stderr);
    let line = text.lines().map(str::trim).find(|line| !line.is_empty())?;
    Some(line.chars().take(STDERR_QUOTE).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn run(line: &str, timeout: Duration) -> anyhow::Result<MasterKey> {
        run_named(line, timeout, NAME).await
    }

    const KEY: &str = "3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c";

    async fn error_of(command: &str) -> String {
        format!(
            "{:#}",
            run(command, TIMEOUT)
                .await
                .expect_err("the command gives no key")
        )
    }

    #[tokio::test]
    async fn the_key_is_read_from_stdout_with_surrounding_whitespace() {
        let key = run(&format!("printf '  {KEY}\\n\\n'"), TIMEOUT)
            .await
            .unwrap();
        assert_eq!(key.id(), MasterKey::parse_hex(KEY).unwrap().id());
    }

    #[tokio::test]
    async fn a_failure_names_the_setting_the_exit_code_and_the_first_stderr_line_only() {
        let error =
            error_of("echo half-a-secret; echo 'access denied' >&2; echo second >&2; exit 3").await;
        assert!(error.starts_with(NAME), "{error}");
        assert!(error.contains("exit code 3: access denied"), "{error}");
        assert!(!error.contains("second"), "{error}");
        assert!(
            !error.contains("half-a-secret"),
            "stdout is never quoted: {error}"
        );
    }

    #[tokio::test]
    async fn empty_and_invalid_output_are_refused_without_quoting_it() {
        let empty = error_of("printf '\\n  \\n'").await;
        assert!(empty.contains("printed nothing"), "{empty}");
        let invalid = error_of("echo not-the-key-zzz").await;
        assert!(invalid.contains("no valid master key"), "{invalid}");
        assert!(!invalid.contains("not-the-key"), "{invalid}");
        let short = error_of(&format!("echo {}", &KEY[..40])).await;
        assert!(short.contains("no valid master key"), "{short}");
    }

    #[tokio::test]
    async fn a_command_that_hangs_is_stopped_at_the_timeout() {
        let started = std::time::Instant::now();
        let error = run("sleep 20", Duration::from_millis(200))
            .await
            .expect_err("no key in time");
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(
            format!("{error}").contains("did not finish within 200ms"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_timeout_stops_what_the_command_started_too() {
        // A background child of `sh` with a duration no other test uses.
        run("sleep 31.4159 & wait", Duration::from_millis(200))
            .await
            .expect_err("no key in time");
        tokio::time::sleep(Duration::from_millis(200)).await;
        let left = std::process::Command::new("pgrep")
            .args(["-f", "sleep 31.4159"])
            .output()
            .expect("pgrep");
        assert!(
            left.stdout.is_empty(),
            "left running: {}",
            String::from_utf8_lossy(&left.stdout)
        );
    }

    #[test]
    fn a_long_stderr_line_is_cut() {
        let line = first_line("x".repeat(1000).as_bytes()).unwrap();
        assert_eq!(line.chars().count(), STDERR_QUOTE);
        assert_eq!(first_line(b"\n \n"), None);
    }
}
