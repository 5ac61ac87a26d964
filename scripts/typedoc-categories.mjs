// A TypeDoc plugin: puts every export of the API site into the category of the folder that
// declares it (src/aggregators → "Aggregators", …), so the site is grouped by what a user looks
// for rather than alphabetically by kind, without a @category tag to keep in sync in every file.
// An explicit @category in a comment still wins.
import { CommentTag, Converter, Comment } from 'typedoc';

/** Folder of src/ (first match wins) → category name, in the order the site lists them. */
const CATEGORIES = [
  ['src/aggregators/flame', 'FLAME & clustering'],
  ['src/clustering/', 'FLAME & clustering'],
  ['src/aggregators/', 'Aggregators'],
  ['src/pre-aggregators/', 'Pre-aggregators'],
  ['src/attacks/', 'Attacks'],
  ['src/optimizers/', 'Optimizers'],
  ['src/metrics/', 'Metrics'],
  ['src/defenses/', 'Defenses'],
  ['src/tfjs/', 'TF.js'],
  ['src/kernels/', 'Kernels'],
  ['src/core/', 'Core'],
];

function categoryOf(fileName) {
  const path = fileName.replace(/\\/g, '/');
  for (const [prefix, name] of CATEGORIES) if (path.includes(prefix)) return name;
  return null;
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  const tag = (context, reflection) => {
    const symbol = context.getSymbolFromReflection?.(reflection) ?? context.project.getSymbolFromReflection(reflection);
    const file = symbol?.declarations?.[0]?.getSourceFile().fileName;
    if (file === undefined) return;
    const name = categoryOf(file);
    if (name === null) return;
    reflection.comment ??= new Comment();
    if (!reflection.comment.blockTags.some((t) => t.tag === '@category')) {
      reflection.comment.blockTags.push(new CommentTag('@category', [{ kind: 'text', text: name }]));
    }
  };
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    // Only the module's direct children are grouped; members of interfaces are not.
    if (reflection.parent?.kindOf?.(2 /* Module */) || reflection.parent?.kindOf?.(1 /* Project */)) tag(context, reflection);
  });
}
