// systemd's D-Bus object path of a unit: /org/freedesktop/systemd1/unit/<escaped name>, where
// every byte outside [A-Za-z0-9] (and a leading digit) is written _xx in hex.

export const UNIT_PATH_PREFIX = "/org/freedesktop/systemd1/unit/";

export function unitObjectPath(name: string): string {
  let out = "";
  const bytes = Buffer.from(name, "utf8");
  bytes.forEach((byte, i) => {
    const c = String.fromCharCode(byte);
    const alnum = /[A-Za-z0-9]/.test(c) && !(i === 0 && /[0-9]/.test(c));
    out += alnum ? c : `_${byte.toString(16).padStart(2, "0")}`;
  });
  return UNIT_PATH_PREFIX + out;
}
