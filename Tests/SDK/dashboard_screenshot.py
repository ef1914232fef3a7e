"""Headless Chromium signs in to the dashboard and screenshots the spend page (Chrome DevTools Protocol over
--remote-debugging-pipe, so nothing beyond the standard library and Debian's chromium is needed).

Checks the chart is drawn and not blank (its pixels hold several colours), writes the page's screenshot to
FAIRWAY_SCREENSHOT, and prints "all checks passed".
"""
import base64
import json
import os
import shutil
import struct
import subprocess
import tempfile
import time
import zlib

from checks import check

base = os.environ["FAIRWAY_MANAGEMENT_URL"]
token = os.environ["FAIRWAY_ADMIN_TOKEN"]
spend_path = os.environ["FAIRWAY_SPEND_PATH"]
output = os.environ["FAIRWAY_SCREENSHOT"]
browser = shutil.which("chromium") or shutil.which("chromium-browser")
check("chromium is installed", browser is not None)

to_chrome_read, to_chrome_write = os.pipe()
from_chrome_read, from_chrome_write = os.pipe()


def wire_pipes():
    # Chromium reads commands on fd 3 and writes replies on fd 4. A pipe may already sit on 3 or 4, where dup2 is a
    # no-op that leaves close-on-exec set: mark both inheritable explicitly.
    reading, writing = os.dup(to_chrome_read), os.dup(from_chrome_write)
    os.dup2(reading, 3)
    os.dup2(writing, 4)
    os.set_inheritable(3, True)
    os.set_inheritable(4, True)


profile = tempfile.mkdtemp(prefix="fw-chromium-")
chrome = subprocess.Popen(
    [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--remote-debugging-pipe",
     f"--user-data-dir={profile}", "--window-size=1100,1200", "--hide-scrollbars", "about:blank"],
    preexec_fn=wire_pipes, close_fds=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
)
os.close(to_chrome_read)
os.close(from_chrome_write)
writer = os.fdopen(to_chrome_write, "wb", buffering=0)
reader = os.fdopen(from_chrome_read, "rb", buffering=0)
buffered = b""
next_id = 0


def receive():
    global buffered
    while b"\0" not in buffered:
        chunk = reader.read(65536)
        if not chunk:
            raise RuntimeError("chromium closed the pipe")
        buffered += chunk
    message, buffered = buffered.split(b"\0", 1)
    return json.loads(message)


def send(method, params=None, session=None):
    global next_id
    next_id += 1
    message = {"id": next_id, "method": method, "params": params or {}}
    if session:
        message["sessionId"] = session
    writer.write(json.dumps(message).encode() + b"\0")
    while True:
        reply = receive()
        if reply.get("id") == next_id:
            if "error" in reply:
                raise RuntimeError(f"{method}: {reply['error']}")
            return reply.get("result", {})


def wait_for(session, expression, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session)["result"].get("value")
        if value:
            return value
        time.sleep(0.1)
    return None


def png_colours(data):
    """Distinct colours of an 8-bit RGB(A) PNG (filters undone; enough for Chromium's screenshots)."""
    width, height, depth, colour_type = struct.unpack(">IIBB", data[16:26])
    channels = {2: 3, 6: 4}[colour_type]
    position, idat = 8, b""
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        if kind == b"IDAT":
            idat += data[position + 8:position + 8 + length]
        position += 12 + length
    raw, stride, previous, colours = zlib.decompress(idat), width * channels, bytearray(width * channels), set()
    for row in range(height):
        kind, line = raw[row * (stride + 1)], bytearray(raw[row * (stride + 1) + 1:(row + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        for i in range(0, stride, channels * 4):
            colours.add(bytes(line[i:i + 3]))
        previous = line
    return colours


try:
    target = send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    send("Page.enable", session=session)
    send("Page.navigate", {"url": base + "/ui/login"}, session)
    check("the login page loads", wait_for(session, "document.getElementById('token') !== null"))
    send("Runtime.evaluate", {"expression": f"document.getElementById('token').value = {json.dumps(token)}; document.forms[0].submit(); true"}, session)
    check("signing in reaches the overview", wait_for(session, "location.pathname === '/ui/overview' && document.readyState === 'complete'"))
    send("Page.navigate", {"url": base + spend_path}, session)
    check("the spend page loads", wait_for(session, "location.pathname === '/ui/spend' && document.readyState === 'complete'"))
    box = wait_for(session, "(() => { const r = document.querySelector('#spend-chart svg').getBoundingClientRect(); "
                   "return r.width > 0 && r.height > 0 ? {x: r.x, y: r.y + window.scrollY, width: r.width, height: r.height} : null })()")
    check("the chart has a size", box is not None, repr(box))
    segments = wait_for(session, "document.querySelectorAll('#spend-chart svg rect').length")
    check("the chart has bars", (segments or 0) >= 3, repr(segments))
    chart = base64.b64decode(send("Page.captureScreenshot", {"format": "png", "clip": {**box, "scale": 1}}, session)["data"])
    colours = png_colours(chart)
    check("the chart area is not blank", len(colours) >= 4, f"{len(colours)} colours")
    page = base64.b64decode(send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session)["data"])
    with open(output, "wb") as file:
        file.write(page)
    print("all checks passed")
finally:
    chrome.kill()
    chrome.wait()
    shutil.rmtree(profile, ignore_errors=True)
