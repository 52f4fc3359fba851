#!/usr/bin/env python3
"""Visibility pass: make every item-level `pub` under src/ `pub(crate)`,
then give `pub` back to what the crate's other targets (tests, benches,
examples, fuzz, the synth member) or a public signature need, by compiling
and reading rustc's JSON diagnostics. Run from the crate root:

    scripts/narrow-visibility.py narrow   # every item pub(crate)
    scripts/narrow-visibility.py          # widen back until it compiles

then mend the dead-code warnings it leaves (items nothing used but their
`pub`: delete them, or `#[cfg(test)]` when only unit tests use them).
Needs the nightly toolchain for the fuzz crate's check."""
import json, re, subprocess, sys, os, collections

ITEM = re.compile(r'^(\s*)pub (?=(?:const |unsafe |async )*(fn|struct|enum|const|type|trait|static|use)\b)')
SKIP = {'src/lib.rs', 'src/main.rs'}

def files():
    for d, _, fs in os.walk('src'):
        for f in fs:
            if f.endswith('.rs'):
                p = os.path.join(d, f)
                if p not in SKIP:
                    yield p

def narrow():
    n = 0
    for p in files():
        lines = open(p).read().split('\n')
        out = []
        for l in lines:
            m = ITEM.match(l)
            if m:
                l = m.group(1) + 'pub(crate) ' + l[m.end():]
                n += 1
            out.append(l)
        open(p, 'w').write('\n'.join(out))
    return n

def widen(path, line):
    lines = open(path).read().split('\n')
    # walk up from the reported line to the declaration carrying pub(crate)
    for i in range(line - 1, max(-1, line - 40), -1):
        if 'pub(crate) ' in lines[i]:
            lines[i] = lines[i].replace('pub(crate) ', 'pub ', 1)
            open(path, 'w').write('\n'.join(lines))
            return True
        if i < line - 1 and lines[i].strip() in ('}', ''):
            break
    return False

CMDS = [
    ['cargo', 'check', '--workspace', '--all-targets', '--message-format=json'],
    ['cargo', '+nightly', 'check', '--manifest-path', 'fuzz/Cargo.toml', '--bins', '--message-format=json'],
]

def spans_to_widen(msg):
    """Definition sites of items another target could not reach."""
    out = []
    code = (msg.get('code') or {}).get('code')
    text = msg.get('message', '')
    if code in ('E0603', 'E0624') or 'is private' in text:
        for c in msg.get('children', []):
            for s in c.get('spans', []):
                out.append((s['file_name'], s['line_start']))
        for s in msg.get('spans', []):
            if not s.get('is_primary') and 'defined here' in (s.get('label') or ''):
                out.append((s['file_name'], s['line_start']))
    if 'more private than the item' in text or (msg.get('code') or {}).get('code') == 'private_interfaces':
        for c in msg.get('children', []):
            for s in c.get('spans', []):
                out.append((s['file_name'], s['line_start']))
    return out

def definitions(name):
    pat = re.compile(r'^\s*pub\(crate\) (?:const |unsafe |async )*(?:fn|struct|enum|const|type|trait|static) ' + re.escape(name) + r'\b')
    out = []
    for p in files():
        for i, l in enumerate(open(p).read().split('\n')):
            if pat.match(l):
                out.append((p, i + 1))
    return out

def check():
    todo, other = set(), []
    for cmd in CMDS:
        env = dict(os.environ)
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
        for l in r.stdout.splitlines():
            try:
                j = json.loads(l)
            except ValueError:
                continue
            if j.get('reason') != 'compiler-message':
                continue
            m = j['message']
            if m.get('level') not in ('error', 'warning'):
                continue
            sp = spans_to_widen(m)
            if (m.get('code') or {}).get('code') in ('E0365', 'E0364'):
                name = re.search(r'`([^`]+)` is only public', m['message'])
                if name:
                    sp = definitions(name.group(1))
            root = os.getcwd()
            sp = [(os.path.relpath(os.path.join(root, f)) if not f.startswith('/') else os.path.relpath(f), ln) for f, ln in sp]
            sp = [(f, ln) for f, ln in sp if f.startswith('src/')]
            if sp:
                todo.update(sp)
            else:
                other.append(m.get('rendered', m.get('message')))
    return todo, other

if __name__ == '__main__':
    if sys.argv[1:] == ['narrow']:
        print('narrowed', narrow())
        sys.exit()
    for it in range(30):
        todo, other = check()
        print(f'round {it}: widen {len(todo)}, other diagnostics {len(other)}', flush=True)
        if not todo:
            for o in other[:40]:
                print(o)
            break
        for f, ln in sorted(todo):
            if not widen(f, ln):
                print('could not widen', f, ln)
