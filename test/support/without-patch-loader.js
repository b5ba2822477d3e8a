/**
 * A webpack loader for the replay test: a workflow source with one `patched(...)` call replaced by
 * `true`, which is the change as it would have shipped without its patch.
 */
module.exports = function withoutPatch(source) {
  const { patchCall } = this.getOptions();
  if (!source.includes(patchCall)) throw new Error(`${this.resourcePath} has no ${patchCall}: the replay test names a patch that is gone`);
  return source.split(patchCall).join('true');
};
