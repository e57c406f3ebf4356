// The Python runtime of execute_code as a module of its own with a fixed URL (/python-runtime.js):
// the sandbox host (or a test page) can import it only when Python is wanted.
export { PythonCodeRuntime, PythonRuntime, type PythonJob, type PythonOutcome, type PythonRuntimeOptions, type PythonStage } from '../sandbox/host/python/index';
