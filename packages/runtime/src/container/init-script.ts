/**
 * The container's PID 1: Debian's static busybox, bind-mounted read-only at /dev/.berth-init (as
 * Docker bind-mounts tini for --init), running this script with the app's argv.
 *
 * Why a shell and not the app as PID 1: the engine that spawned the zygote may restart, so nobody
 * Berth-side can rely on being the parent that waitpid()s the app. The init is the app's parent for
 * the container's whole life and writes the app's exit status to fd 3 — a file in the container's
 * host-side state dir — before exiting with the same status. While the engine runs it also sees the
 * init exit as its child; after a restart it reads the file.
 *
 * The app runs in the foreground: ash would set SIGINT/SIGQUIT to SIG_IGN for a background job,
 * and ignored signals survive exec. The engine therefore delivers stop/kill signals to the app
 * itself (the init's only child); the init, as a PID namespace's init without handlers, ignores
 * them, and reaps reparented orphans while it waits (ash waits with waitpid(-1)). The command is
 * passed as a resolved absolute path: Debian's busybox runs its own applets for bare names.
 */
export const INIT_PATH = "/dev/.berth-init";
export const INIT_ARGV0 = "sh";
export const INIT_SCRIPT = '"$@" 3>&-; __berth_s=$?; echo $__berth_s >&3; exit $__berth_s';
