// Provided by tools/build-browser.js: every kernels/*.wgsl file, by name, as a string.
declare module 'virtual:kernels' {
  const kernels: Record<string, string>;
  export default kernels;
}
