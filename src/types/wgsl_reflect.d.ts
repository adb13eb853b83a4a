// wgsl_reflect's "main" is a CommonJS file inside an ESM package, which Node cannot import;
// its ESM build has the same API and these types.
declare module 'wgsl_reflect/wgsl_reflect.module.js' {
  export * from 'wgsl_reflect';
}
