/** The cgroup a waiting zygote sits in; renamed to the container's ID when the zygote is used. */
export function zygoteGroup(pid: number): string {
  return `zygote-${pid}`;
}
