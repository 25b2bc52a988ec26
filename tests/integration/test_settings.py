"""The README's settings tables and every built bot's --help agree.

For each bot of the Makefile's BOTS_ALL that has a main.c and is built,
runs `<bot> --help`, reads the variables and defaults of its Environment
list (printed from the settings tables, common/settings.h), and compares
them with the README: the runtime's table under "### Configuration" plus
the settings table in the bot's own "## <bot>" section.  A variable in one
and not the other, or a different default, fails.  No backend needed."""

import os
import re
import subprocess
import unittest

from lib import BUILD, ROOT

NAME = r"[A-Z][A-Z0-9_]*"
# "[default: D; MIN..MAX]", "[default: D]" or "[MIN..MAX]" ends an entry.
TAIL = re.compile(r"\[(?:default: (?P<d>[^\]]*?))?(?:(?:; )?-?\d+\.\.-?\d+)?\]$")
TEXT_COL = 25


def norm(text):
    """A default as both sides write it: no backticks, single spaces."""
    return " ".join(text.replace("`", "").split())


def parse_help(text):
    """{name: default or ""} from the Environment list of --help."""
    lines = text.splitlines()
    try:
        start = lines.index("Environment:") + 1
    except ValueError:
        raise AssertionError("--help has no Environment: list")
    entries = []  # [name, text]
    for line in lines[start:]:
        if line.strip() == "":
            break
        m = re.match(r"^  (%s)(?:\s+(.*))?$" % NAME, line)
        if m:
            entries.append([m.group(1), m.group(2) or ""])
            continue
        if line.startswith(" " * TEXT_COL) and entries:
            entries[-1][1] += " " + line.strip()
            continue
        raise AssertionError("--help: unexpected line %r" % line)
    out = {}
    for name, body in entries:
        if name in out:
            raise AssertionError("--help lists %s twice" % name)
        m = TAIL.search(body.strip())
        out[name] = norm(m.group("d")) if m and m.group("d") else ""
    return out


def _rows(lines, where):
    """{name: default} from settings table rows; one variable per row."""
    out = {}
    for line in lines:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3:
            raise AssertionError("%s: short row %r" % (where, line))
        m = re.fullmatch(r"`(%s)`" % NAME, cells[0])
        if not m:
            raise AssertionError(
                "%s: want one `NAME` per row, got %r" % (where, cells[0]))
        if m.group(1) in out:
            raise AssertionError("%s lists %s twice" % (where, m.group(1)))
        out[m.group(1)] = norm(cells[1])
    return out


def settings_tables(lines, where):
    """Rows of the tables headed "| variable |" or "| setting |"."""
    rows, inside = [], False
    for line in lines:
        if re.match(r"^\|\s*(variable|setting)\s*\|", line):
            inside = True
            continue
        if inside and line.startswith("|"):
            if not re.match(r"^\|[-| :]+\|$", line.strip()):
                rows.append(line)
            continue
        inside = False
    return _rows(rows, where)


def section(lines, heading):
    """The lines under heading up to the next heading of its level or
    above (None when there is no such heading)."""
    level = len(heading) - len(heading.lstrip("#"))
    try:
        start = lines.index(heading) + 1
    except ValueError:
        return None
    end = len(lines)
    for i in range(start, len(lines)):
        m = re.match(r"^(#+) ", lines[i])
        if m and len(m.group(1)) <= level:
            end = i
            break
    return lines[start:end]


def readme_settings(readme, bot):
    lines = readme.splitlines()
    runtime = section(lines, "### Configuration")
    if runtime is None:
        raise AssertionError("README has no ### Configuration section")
    out = settings_tables(runtime, "README ### Configuration")
    own = section(lines, "## " + bot)
    if own is None:
        raise AssertionError("README has no ## %s section" % bot)
    for name, default in settings_tables(own, "README ## " + bot).items():
        if name in out:
            raise AssertionError("README lists %s twice" % name)
        out[name] = default
    return out


def differences(readme, helped):
    """Lines describing how the two {name: default} maps differ."""
    diff = []
    for name in sorted(set(helped) - set(readme)):
        diff.append("%s: in --help, not in the README" % name)
    for name in sorted(set(readme) - set(helped)):
        diff.append("%s: in the README, not in --help" % name)
    for name in sorted(set(readme) & set(helped)):
        if readme[name] != helped[name]:
            diff.append("%s: default %r in the README, %r in --help"
                        % (name, readme[name], helped[name]))
    return diff


def bots():
    with open(os.path.join(ROOT, "Makefile")) as f:
        m = re.search(r"^BOTS_ALL\s*:=\s*(.*)$", f.read(), re.M)
    return [b for b in m.group(1).split()
            if os.path.exists(os.path.join(ROOT, b, "main.c"))]


class SettingsTest(unittest.TestCase):
    def test_readme_and_help_agree(self):
        with open(os.path.join(ROOT, "README.md")) as f:
            readme = f.read()
        checked = 0
        for bot in bots():
            with self.subTest(bot=bot):
                path = os.path.join(BUILD, bot)
                if not os.path.exists(path):
                    self.skipTest("%s is not built" % path)
                env = {"PATH": os.environ.get("PATH", "")}
                p = subprocess.run([path, "--help"], capture_output=True,
                                   text=True, timeout=30, env=env)
                self.assertEqual(p.returncode, 0, p.stderr)
                helped = parse_help(p.stdout)
                self.assertGreater(len(helped), 20, p.stdout)
                diff = differences(readme_settings(readme, bot), helped)
                self.assertEqual(diff, [], "\n".join(diff))
                checked += 1
        if checked == 0:
            self.skipTest("no bot is built")

    def test_the_comparison_catches_a_difference(self):
        # The checker itself: a README row missing, an extra one, a
        # different default, and a computed default written with
        # backticks on one side only.
        helped = parse_help(
            "x\nEnvironment:\n"
            "  A_ONE                  words [default: 30; 1..3600]\n"
            "  B_TWO                  words that go on\n"
            "                         [default: 2 x A_ONE + C; 1..9]\n"
            "  C_THREE                no default\n"
            "  D_FOUR                 range only [0..9]\n"
            "\nSignals: ...\n")
        self.assertEqual(helped, {"A_ONE": "30", "B_TWO": "2 x A_ONE + C",
                                  "C_THREE": "", "D_FOUR": ""})
        readme = ("### Configuration\n\n| variable | default | meaning |\n"
                  "|---|---|---|\n| `A_ONE` | 31 | x |\n"
                  "| `B_TWO` | 2 x `A_ONE` + `C` | x |\n"
                  "| `E_FIVE` | | x |\n\n## bot\n\n"
                  "| setting | default | meaning |\n|---|---|---|\n"
                  "| `C_THREE` | | x |\n\n## other\n\n"
                  "| setting | default | meaning |\n|---|---|---|\n"
                  "| `D_FOUR` | | x |\n")
        self.assertEqual(differences(readme_settings(readme, "bot"), helped), [
            "D_FOUR: in --help, not in the README",
            "E_FIVE: in the README, not in --help",
            "A_ONE: default '31' in the README, '30' in --help",
        ])
        with self.assertRaisesRegex(AssertionError, "one `NAME` per row"):
            readme_settings(readme.replace("| `E_FIVE` |", "| `E_FIVE`, `F` |"),
                            "bot")


if __name__ == "__main__":
    unittest.main()
