#!/usr/bin/env python3
"""Renders a terminal capture with ANSI colours (`tmux capture-pane -e -p`) to a PNG.

Used to make the README screenshot from the real program:
    tmux capture-pane -e -p -t SESSION > screen.ansi
    python3 scripts/ansi_to_png.py screen.ansi assets/screenshot.png
Needs Pillow and the DejaVu Sans Mono font.
"""
import re
import sys

from PIL import Image, ImageDraw, ImageFont

FONT_DIR = "/usr/share/fonts/truetype/dejavu/"
SIZE = 15
BG = (24, 24, 28)
FG = (220, 220, 220)
BASIC = [
    (0, 0, 0), (205, 49, 49), (13, 188, 121), (229, 229, 16),
    (36, 114, 200), (188, 63, 188), (17, 168, 205), (229, 229, 229),
    (102, 102, 102), (241, 76, 76), (35, 209, 139), (245, 245, 67),
    (59, 142, 234), (214, 112, 214), (41, 184, 219), (255, 255, 255),
]


def xterm256(n):
    if n < 16:
        return BASIC[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    v = 8 + (n - 232) * 10
    return (v, v, v)


def parse(line):
    """Yields (char, fg, bg, bold, reverse) cells."""
    fg, bg, bold, rev = None, None, False, False
    pos = 0
    for m in re.finditer(r"\x1b\[([0-9;]*)m|([^\x1b])", line):
        if m.group(2) is not None:
            yield m.group(2), fg, bg, bold, rev
            continue
        codes = [int(c) if c else 0 for c in m.group(1).split(";")]
        i = 0
        while i < len(codes):
            c = codes[i]
            if c == 0:
                fg, bg, bold, rev = None, None, False, False
            elif c == 1:
                bold = True
            elif c == 22:
                bold = False
            elif c == 7:
                rev = True
            elif c == 27:
                rev = False
            elif 30 <= c <= 37:
                fg = BASIC[c - 30]
            elif 90 <= c <= 97:
                fg = BASIC[c - 90 + 8]
            elif c == 39:
                fg = None
            elif 40 <= c <= 47:
                bg = BASIC[c - 40]
            elif 100 <= c <= 107:
                bg = BASIC[c - 100 + 8]
            elif c == 49:
                bg = None
            elif c in (38, 48) and i + 2 < len(codes) and codes[i + 1] == 5:
                col = xterm256(codes[i + 2])
                if c == 38:
                    fg = col
                else:
                    bg = col
                i += 2
            elif c in (38, 48) and i + 4 < len(codes) and codes[i + 1] == 2:
                col = tuple(codes[i + 2:i + 5])
                if c == 38:
                    fg = col
                else:
                    bg = col
                i += 4
            i += 1


def main(src, dst):
    lines = open(src, encoding="utf-8").read().rstrip("\n").split("\n")
    regular = ImageFont.truetype(FONT_DIR + "DejaVuSansMono.ttf", SIZE)
    bold_font = ImageFont.truetype(FONT_DIR + "DejaVuSansMono-Bold.ttf", SIZE)
    cw = int(regular.getlength("M"))
    ch = SIZE + 4
    cols = max(sum(1 for _ in parse(l)) for l in lines)
    img = Image.new("RGB", (cols * cw + 16, len(lines) * ch + 16), BG)
    draw = ImageDraw.Draw(img)
    for y, line in enumerate(lines):
        for x, (c, fg, bg, bold, rev) in enumerate(parse(line)):
            f, b = fg or FG, bg or BG
            if rev:
                f, b = b, f
            px, py = 8 + x * cw, 8 + y * ch
            if b != BG:
                draw.rectangle([px, py, px + cw, py + ch], fill=b)
            if c != " ":
                draw.text((px, py + 1), c, font=bold_font if bold else regular, fill=f)
    img.save(dst)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
