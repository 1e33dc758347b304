// A small seccomp program so that the start path installs a real filter today.
// TODO(packages/runtime/src/security/seccomp): replace with buildSeccompFilter(DOCKER_DEFAULT_SECCOMP_PROFILE)
// once the BPF compiler lands; keep the block-device mknod rule (the v1 devices cgroup allows
// "b *:* m", so only seccomp stops `mknod /dev/sda b 8 0`).

const AUDIT_ARCH_X86_64 = 0xc000003e;
const RET_KILL_PROCESS = 0x80000000;
const RET_ALLOW = 0x7fff0000;
const RET_EPERM = 0x00050000 | 1;
const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const AND_K = 0x54;
const RET_K = 0x06;
const S_IFMT = 0o170000;
const S_IFBLK = 0o060000;

/** x86_64 numbers of calls a default container must not make (moby's profile denies them too). */
const DENIED = [
  103, // syslog
  134, // uselib
  153, // vhangup
  155, // pivot_root
  163, // acct
  164, // settimeofday
  165, // mount
  166, // umount2
  167, // swapon
  168, // swapoff
  169, // reboot
  172, // iopl
  173, // ioperm
  174, // create_module
  175, // init_module
  176, // delete_module
  177, // get_kernel_syms
  178, // query_module
  179, // quotactl
  180, // nfsservctl
  212, // lookup_dcookie
  227, // clock_settime
  246, // kexec_load
  248, // add_key
  249, // request_key
  250, // keyctl
  272, // unshare
  298, // perf_event_open
  304, // open_by_handle_at
  308, // setns
  313, // finit_module
  320, // kexec_file_load
  321, // bpf
  323, // userfaultfd
  428, // open_tree
  429, // move_mount
  430, // fsopen
  431, // fsconfig
  432, // fsmount
  433, // fspick
  442, // mount_setattr
];
const MKNOD = 133;
const MKNODAT = 259;

type Insn = [code: number, jt: number, jf: number, k: number];

/** Offset of the low 32 bits of syscall argument `i` in struct seccomp_data. */
const argOffset = (i: number) => 16 + 8 * i;

/** Returns the program as struct sock_filter[] bytes. */
export function buildFallbackSeccomp(): Uint8Array {
  const prog: Insn[] = [
    [LD_W_ABS, 0, 0, 4], // arch
    [JEQ_K, 1, 0, AUDIT_ARCH_X86_64],
    [RET_K, 0, 0, RET_KILL_PROCESS],
    [LD_W_ABS, 0, 0, 0], // nr
    [JGE_K, 0, 1, 0x40000000], // x32 ABI
    [RET_K, 0, 0, RET_EPERM],
  ];
  for (const nr of DENIED) prog.push([JEQ_K, 0, 1, nr], [RET_K, 0, 0, RET_EPERM]);
  // mknod(path, mode, dev) and mknodat(dirfd, path, mode, dev) of a block device.
  for (const [nr, arg] of [
    [MKNOD, 1],
    [MKNODAT, 2],
  ] as const) {
    prog.push(
      [LD_W_ABS, 0, 0, 0],
      [JEQ_K, 0, 4, nr],
      [LD_W_ABS, 0, 0, argOffset(arg)],
      [AND_K, 0, 0, S_IFMT],
      [JEQ_K, 0, 1, S_IFBLK],
      [RET_K, 0, 0, RET_EPERM],
    );
  }
  prog.push([RET_K, 0, 0, RET_ALLOW]);
  const bytes = new Uint8Array(prog.length * 8);
  const view = new DataView(bytes.buffer);
  prog.forEach(([code, jt, jf, k], i) => {
    view.setUint16(i * 8, code, true);
    view.setUint8(i * 8 + 2, jt);
    view.setUint8(i * 8 + 3, jf);
    view.setUint32(i * 8 + 4, k >>> 0, true);
  });
  return bytes;
}
