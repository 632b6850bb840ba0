// Run by hack/schemacheck.sh.
// Validates YAML files against swarmgate's schema with yaml-language-server's own language
// service, as an editor would: argv[2] is the schema directory, the rest are files.
const fs = require('fs');
const path = require('path');
const { URI } = require('vscode-uri');
const { TextDocument } = require('vscode-languageserver-textdocument');
const { getLanguageService } = require('yaml-language-server/out/server/src/languageservice/yamlLanguageService');

const schemaDir = path.resolve(process.argv[2]);
const schemaURI = URI.file(path.join(schemaDir, 'swarmgate.json')).toString();
const ls = getLanguageService({
  schemaRequestService: async (uri) => {
    const p = URI.parse(uri);
    if (p.scheme !== 'file') throw new Error('would fetch ' + uri); // offline: only local files
    return fs.readFileSync(p.fsPath, 'utf8');
  },
  workspaceContext: { resolveRelativePath: (rel, res) => URI.file(path.resolve(path.dirname(URI.parse(res).fsPath), rel)).toString() },
});
ls.configure({ validate: true, completion: true, hover: true, schemas: [{ uri: schemaURI, fileMatch: ['*.yaml'] }] });
(async () => {
  const out = {};
  for (const f of process.argv.slice(3)) {
    const doc = TextDocument.create(URI.file(path.resolve(f)).toString(), 'yaml', 1, fs.readFileSync(f, 'utf8'));
    const diags = await ls.doValidation(doc, false);
    out[path.basename(f)] = diags.filter(d => d.severity === 1 || d.severity === 2).map(d => d.message);
  }
  console.log(JSON.stringify(out));
})().catch(e => { console.error(e); process.exit(1); });
