// CPU time this process has used, user and system, in microseconds.
export function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}
