import { describe, expect, it } from "vitest";
import { unitObjectPath } from "./unit-path.js";

describe("unitObjectPath", () => {
  it.each([
    ["hello.service", "/org/freedesktop/systemd1/unit/hello_2eservice"],
    ["foo@1.service", "/org/freedesktop/systemd1/unit/foo_401_2eservice"],
    ["a-b_c.socket", "/org/freedesktop/systemd1/unit/a_2db_5fc_2esocket"],
    ["1x.service", "/org/freedesktop/systemd1/unit/_31x_2eservice"],
  ])("%s", (name, path) => expect(unitObjectPath(name)).toBe(path));
});
