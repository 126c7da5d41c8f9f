#!/usr/bin/env node
// `python3.12 SCRIPT ARGS` or `python3.12 -c CODE ARGS` on Pyodide's CPython 3.12 (WebAssembly, under
// node): the 3.12+ interpreter of the trace tool's sys.monitoring tests (scripts/ci-python312.sh
// installs it as /opt/gym-pdb/python3.12/bin/python3.12). The host folders the run names (the
// current one, each absolute argument's top folder) are mounted at the same paths, so the script
// reads and writes the host's files; stdout and stderr are the process's; the exit status is
// SystemExit's. No subprocesses, sockets or inherited descriptors: it runs stdlib-only scripts.
"use strict";
const path = require("path");
const pyodideDir = path.join(__dirname, "..", "node_modules", "pyodide");
const { loadPyodide } = require(path.join(pyodideDir, "pyodide.js"));

function writer(stream) {
  return { write: (bytes) => { stream.write(Buffer.from(bytes)); return bytes.length; } };
}

async function main() {
  const argv = process.argv.slice(2);
  const py = await loadPyodide({ indexURL: pyodideDir + path.sep });
  py.setStdout(writer(process.stdout));
  py.setStderr(writer(process.stderr));
  const tops = new Set([process.cwd(), ...argv.filter((a) => a.startsWith("/"))].map((p) => "/" + p.split("/")[1]));
  for (const top of tops) {
    if (["/", "/lib", "/dev", "/proc"].includes(top)) continue;  // Pyodide's own (its stdlib is under /lib)
    py.FS.mkdirTree(top);
    py.FS.mount(py.FS.filesystems.NODEFS, { root: top }, top);
  }
  py.FS.chdir(process.cwd());
  py.globals.set("host_argv", py.toPy(argv));
  const status = py.runPython(`
import runpy, sys, traceback
def _run(argv):
    if argv[:1] == ["-c"]:
        sys.argv = ["-c"] + argv[2:]
        exec(compile(argv[1], "<string>", "exec"), {"__name__": "__main__"})
    else:
        sys.argv = list(argv)
        sys.path[0] = __import__("os").path.dirname(__import__("os").path.abspath(argv[0]))
        runpy.run_path(argv[0], run_name="__main__")
try:
    _run(list(host_argv))
    _status = 0
except SystemExit as exc:
    _status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
except BaseException:
    traceback.print_exc()
    _status = 1
sys.stdout.flush()
sys.stderr.flush()
_status
`);
  process.exitCode = status;
}

main().catch((err) => { process.stderr.write(String(err && err.stack || err) + "\n"); process.exitCode = 1; });
