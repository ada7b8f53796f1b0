// wgsl_reflect 1.6 ships a CommonJS `main` under "type": "module", so Node's `import 'wgsl_reflect'`
// yields no exports; we import its ES module file directly and borrow the package's own types.
declare module 'wgsl_reflect/wgsl_reflect.module.js' {
  export * from 'wgsl_reflect';
}
