// Builds the portal's design system: GOV.UK Frontend, rebranded (no crown, no GDS
// Transport), compiled with Sass into src/egov/static/egov/dist/, which is build output
// and never committed. Run with `npm run build`; exits non-zero on any error.
import { copyFile, mkdir, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as sass from "sass";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const nodeModules = path.join(root, "node_modules");
const govuk = path.join(nodeModules, "govuk-frontend", "dist", "govuk");
const dist = path.join(root, "src", "egov", "static", "egov", "dist");

// Files in govuk-frontend's assets/images that carry the crown, crest or GOV.UK identity.
// A neutral state portal must not ship them, so they are never copied.
const CROWN_BRANDED = /^(favicon|govuk-icon|govuk-crest|apple-touch-icon|govuk-opengraph-image)/;

async function buildCss() {
  const result = await sass.compileAsync(path.join(root, "frontend", "scss", "app.scss"), {
    style: "compressed",
    loadPaths: [nodeModules, root],
    sourceMap: false,
    // GOV.UK Frontend 5 still uses @import and global Sass functions; those warnings
    // belong to the dependency and would drown out our own.
    quietDeps: true,
    silenceDeprecations: ["import", "global-builtin"],
  });
  await writeFile(path.join(dist, "app.css"), result.css);
  return result.css.length;
}

async function copyScripts() {
  // The min.js ends with a sourceMappingURL comment; Django's manifest storage follows it
  // during collectstatic, so the map has to be next to it.
  for (const name of ["govuk-frontend.min.js", "govuk-frontend.min.js.map"]) {
    await copyFile(path.join(govuk, name), path.join(dist, name));
  }
  await copyFile(path.join(root, "frontend", "init.js"), path.join(dist, "init.js"));
}

async function copyImages() {
  const source = path.join(govuk, "assets", "images");
  const target = path.join(dist, "assets", "images");
  const copied = [];
  for (const name of await readdir(source)) {
    if (CROWN_BRANDED.test(name)) continue;
    await mkdir(target, { recursive: true });
    await copyFile(path.join(source, name), path.join(target, name));
    copied.push(name);
  }
  return copied;
}

async function main() {
  await rm(dist, { recursive: true, force: true });
  await mkdir(dist, { recursive: true });
  const cssBytes = await buildCss();
  await copyScripts();
  const images = await copyImages();
  const relative = path.relative(root, dist);
  console.log(`egov frontend: ${relative}/app.css (${cssBytes} bytes)`);
  console.log(`egov frontend: ${relative}/govuk-frontend.min.js, init.js`);
  console.log(`egov frontend: ${images.length} image asset(s) copied${images.length ? `: ${images.join(", ")}` : ""}`);
}

main().catch((error) => {
  console.error(`egov frontend build failed: ${error.stack || error}`);
  process.exit(1);
});
