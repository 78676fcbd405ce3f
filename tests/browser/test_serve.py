"""Issue 19: `rfconsole serve` in a real headless Chromium (tests/browser/conftest.py)."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from pathlib import Path

from bench._served import open_console
from rfconsole.store import Workdir
from tests.integration.conftest import (
    QEMU_URI,
    domain_state,
    qemu_spec,
    save_spec,
    wait_until,
)

VMS = ("rfvmA", "rfvmB", "rfvmC", "rfvmD")


def four_vms(text: str) -> bool:
    return all(name in text for name in VMS)


def test_without_the_token_every_route_is_403(browser, server_factory):
    served = server_factory()
    page = browser.new_page()
    for path in ("/", "/ws", "/static/js/textual.js", "/auth?token=wrong"):
        response = page.goto(served.base + path)
        assert response.status == 403, path
    page.close()
    assert served.consoles() == []


def test_with_the_token_the_four_demo_vms_show_and_s_starts_one(browser, server_factory):
    served = server_factory()
    page, screen, response = open_console(browser, served)
    assert response.status == 200 and page.url == served.base + "/"  # the token became a cookie, then a redirect
    cookie, = page.context.cookies()
    assert (cookie["httpOnly"], cookie["sameSite"]) == (True, "Strict")
    text = screen.wait_for(page, four_vms, "the four demo VMs")
    assert "rfvmA" in text and len(served.consoles()) == 1
    page.locator("body").click()
    page.keyboard.press("s")  # the cursor starts on rfvmA
    screen.wait_for(page, lambda text: any("rfvmA" in line and "running" in line for line in text.splitlines()),
                    "rfvmA running")
    page.context.close()


def test_a_foreign_origin_cannot_open_the_socket(browser, server_factory, tmp_path):
    served = server_factory()
    page, screen, _ = open_console(browser, served)
    screen.wait_for(page, four_vms, "the four demo VMs")
    foreign = page.context.new_page()  # another site's page, in the browser holding the session cookie
    foreign.route("http://localhost:9/", lambda route: route.fulfill(body="<!doctype html><title>evil</title>", content_type="text/html"))
    foreign.goto("http://localhost:9/")
    outcome = foreign.evaluate(
        """url => new Promise(done => {
            const socket = new WebSocket(url);
            socket.onopen = () => done("open");
            socket.onerror = () => done("refused");
        })""",
        served.base.replace("http:", "ws:") + "/ws",
    )
    assert outcome == "refused"
    assert len(served.consoles()) == 1  # only the first tab's
    page.context.close()


def test_the_session_over_the_cap_is_refused_with_a_page_that_says_so(browser, server_factory):
    served = server_factory("--max-sessions", "1")
    page, screen, _ = open_console(browser, served)
    screen.wait_for(page, four_vms, "the four demo VMs")
    second, _, response = open_console(browser, served)
    assert response.status == 503
    assert "All 1 session in use" in second.content()
    assert len(served.consoles()) == 1
    second.context.close()
    page.context.close()


def test_closing_the_tab_ends_its_console_within_two_seconds(browser, server_factory):
    served = server_factory()
    page, screen, _ = open_console(browser, served)
    screen.wait_for(page, four_vms, "the four demo VMs")
    console, = served.consoles()
    page.close()
    closed = time.monotonic()
    while Path(f"/proc/{console}").exists() and time.monotonic() - closed < 2.0:
        time.sleep(0.02)
    assert not Path(f"/proc/{console}").exists() or Path(f"/proc/{console}/stat").read_text().split()[2] == "Z"
    assert served.consoles() == []
    page.context.close()


def test_foreign_origin_is_refused_even_with_the_cookie(server_factory):
    """The Origin check on its own: the session cookie does not let another site's page in."""
    served = server_factory()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    assert opener.open(served.login).status == 200  # the token became the cookie; / answers with it
    upgrade = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
    for origin, status in (("http://evil.example", 403), (None, 403), (served.base, 400)):
        headers = {**upgrade, **({"Origin": origin} if origin else {})}
        try:
            response = opener.open(urllib.request.Request(served.base + "/ws?width=80&height=24", headers=headers), timeout=5)
            got = response.status
        except urllib.error.HTTPError as error:
            got = error.code
        assert got == status, origin  # 400: past the gate, the handshake fails (urllib sends Connection: close)


def rfit_web_folder(workdir: Workdir, guest) -> Workdir:
    """XML/ holding one tiny TCG guest, rfit-web, that no host has yet."""
    save_spec(workdir, qemu_spec("rfit-web", guest))
    return workdir


def press_start_on(page, screen, name: str) -> None:
    """Filter the table down to ``name``, then press s on it."""
    screen.wait_for(page, lambda text: name in text, name)
    page.locator("body").click()
    page.keyboard.press("/")
    screen.wait_for(page, lambda text: "filtering (enter: to the table)" in text, "the filter focused")
    page.keyboard.type(name)
    screen.wait_for(page, lambda text: "1 domain, " in text, "the table filtered to " + name)
    page.keyboard.press("Enter")
    screen.wait_for(page, lambda text: "filtering (enter" not in text, "the table focused")
    page.keyboard.press("s")


def test_a_key_starts_a_real_vm_seen_in_libvirt_and_its_console_answers_in_the_page(browser, server_factory, clean_libvirt,
                                                                                       guest, workdir):
    served = server_factory(connect=QEMU_URI, folder=rfit_web_folder(workdir, guest).root)
    page, screen, _ = open_console(browser, served)
    press_start_on(page, screen, "rfit-web")
    wait_until(lambda: domain_state(QEMU_URI, "rfit-web") == "running", 30, "rfit-web running (virsh)")
    screen.wait_for(page, lambda text: any("rfit-web" in line and "running" in line for line in text.splitlines()),
                    "rfit-web running on the screen")
    page.keyboard.press("v")  # the VM console pane, in the page: typed into the guest's shell
    screen.wait_for(page, lambda text: "connected to the console of rfit-web" in text, "the console pane")
    deadline = time.monotonic() + 60  # the guest may still be booting: ask until its shell answers
    while not any(line.strip() == "RF42" for line in screen.text().splitlines()):
        assert time.monotonic() < deadline, f"the guest never answered in the page:\n{screen.text()}"
        page.keyboard.type("echo RF$((6*7))")
        page.keyboard.press("Enter")
        page.wait_for_timeout(2000)
    page.context.close()


def test_read_only_refuses_the_same_key_and_libvirt_never_sees_it(browser, server_factory, clean_libvirt, guest, workdir):
    served = server_factory("--read-only", connect=QEMU_URI, folder=rfit_web_folder(workdir, guest).root)
    page, screen, _ = open_console(browser, served)
    press_start_on(page, screen, "rfit-web")
    screen.wait_for(page, lambda text: "read-only" in text, "the read-only refusal")
    page.wait_for_timeout(1000)  # what a start would have needed to define the domain
    assert domain_state(QEMU_URI, "rfit-web") is None  # never defined, never started
    page.context.close()
