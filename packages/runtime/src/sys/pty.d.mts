/** Opens and unlocks a new pty at a ptmx node; the master is O_CLOEXEC and O_NOCTTY. */
export declare function openPtyMaster(ptmxPath: string): { master: number; index: number };
/** The slave of `master` as a new fd (TIOCGPTPEER), O_NOCTTY and O_CLOEXEC. */
export declare function openPtyPeer(master: number): number;
/** TIOCSWINSZ. */
export declare function setWindowSize(fd: number, cols: number, rows: number): void;
/** TIOCGWINSZ. */
export declare function getWindowSize(fd: number): { cols: number; rows: number };
/** A copy (O_CLOEXEC) of fd `fd` of process `pid` (pidfd_open + pidfd_getfd). */
export declare function takeFd(pid: number, fd: number): number;
