#!/usr/bin/env node
// fleetctl, bundled by scripts/bundle-fleetctl.mjs at build time into one file, which this
// loads with V8's code cache: compiling the bundle costs about a fifth of a run, and a CLI
// pays it on every run. The cache is written after the first run (and again whenever V8
// rejects it), named by the bundle's size, mtime and Node's version, in
// $FLEETCTL_CACHE_DIR, else the bundle's directory if writable, else the temp directory.
// FLEETCTL_CODE_CACHE=0 loads the bundle plainly.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const bundle = path.join(__dirname, "..", "dist", "fleetctl.cjs");

function cacheFile() {
  // The bundle's size and mtime name its build (V8 itself only checks the source's length).
  const { size, mtimeMs } = fs.statSync(bundle);
  const name = `fleetctl.${size}-${Math.round(mtimeMs)}-${process.version}.v8cache`;
  const dirs = [process.env.FLEETCTL_CACHE_DIR, path.dirname(bundle), require("node:os").tmpdir()].filter(Boolean);
  for (const dir of dirs) {
    try {
      fs.accessSync(dir, fs.constants.W_OK);
      return path.join(dir, name);
    } catch {
      // not writable: try the next
    }
  }
  return undefined;
}

function loadWithCodeCache() {
  const vm = require("node:vm");
  const Module = require("node:module");
  // esbuild writes ASCII only, and latin1 is the cheapest way to read it into a string.
  const source = fs.readFileSync(bundle, "latin1");
  const file = cacheFile();
  let cached;
  try {
    if (file) cached = fs.readFileSync(file);
  } catch {
    // no cache yet
  }
  const script = new vm.Script(Module.wrap(source), { filename: bundle, cachedData: cached });
  if (file && (cached === undefined || script.cachedDataRejected)) {
    // After the run, so the functions it compiled lazily are in the cache too.
    process.once("exit", () => {
      try {
        const tmp = `${file}.${process.pid}`;
        fs.writeFileSync(tmp, script.createCachedData());
        fs.renameSync(tmp, file);
        const dir = path.dirname(file);
        for (const old of fs.readdirSync(dir)) {
          if (/^fleetctl\..*\.v8cache$/.test(old) && old !== path.basename(file)) fs.rmSync(path.join(dir, old), { force: true });
        }
      } catch {
        // a read-only or full disk only costs the next run its compile time
      }
    });
  }
  const mod = new Module(bundle, module);
  mod.filename = bundle;
  mod.paths = Module._nodeModulePaths(path.dirname(bundle));
  script.runInThisContext()(mod.exports, (id) => mod.require(id), mod, bundle, path.dirname(bundle));
}

if (process.env.FLEETCTL_CODE_CACHE === "0") require(bundle);
else loadWithCodeCache();
