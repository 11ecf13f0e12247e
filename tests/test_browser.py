"""End to end in headless Chromium: ingest a folder from the page, watch the job finish,
search, play a result in place, open the asset with its scene strip. Screenshots land in
tests/output/ for a person to look at."""

import shutil
from pathlib import Path

import pytest
from conftest import TOKEN

from dam.samples import Shot, make_video

OUT = Path(__file__).parent / "output"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is installed by `scripts/setup.sh --with-browser`")


@pytest.fixture
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1440, "height": 900}, base_url=str(server["client"].base_url))
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto("/")  # the server has a token: the page sends a person to its sign-in form
        page.get_by_test_id("login-token").fill(TOKEN)
        page.get_by_test_id("login-button").click()
        page.wait_for_selector('[data-testid="search-input"]')
        try:
            yield page
        finally:
            OUT.mkdir(exist_ok=True)
            page.screenshot(path=OUT / "browser-last.png")  # what the page showed at the end, pass or fail
            browser.close()
        assert errors == [], errors


def test_ingest_search_play_and_open_asset(server, page):
    folder = server["root"] / "browser"
    make_video(folder / "harbour_walk.mp4", [Shot("sunset", 3), Shot("cells", 3), Shot("bars", 3, "dissolve")],
               size=(480, 270))
    OUT.mkdir(exist_ok=True)
    earlier = [j["id"] for j in server["client"].get("/jobs", params={"limit": 500}).json()]  # other tests' jobs
    page.goto("/")
    page.get_by_test_id("ingest-path").fill(str(folder))
    page.get_by_test_id("ingest-button").click()
    ours = page.wait_for_function("""earlier => [...document.querySelectorAll('[data-testid="job"]')]
        .map((e) => e.dataset.jobId).find((id) => !earlier.includes(id))""", arg=earlier).json_value()
    page.wait_for_selector(f'[data-testid="job"][data-job-id="{ours}"][data-status="done"]', timeout=240_000)
    page.screenshot(path=OUT / "browser-1-ingested.png")

    page.get_by_test_id("search-input").fill("harbour walk")
    page.get_by_test_id("search-input").press("Enter")
    card = page.locator('[data-testid="result-card"].hit').first  # a search hit, not a Recent card
    card.wait_for(timeout=30_000)
    assert "harbour_walk.mp4" in card.inner_text()
    card.click()
    video = card.locator("video")
    video.wait_for(timeout=10_000)
    assert "/media" in video.get_attribute("src")
    page.screenshot(path=OUT / "browser-2-search.png")

    card.get_by_test_id("open-asset").click()
    view = page.get_by_test_id("asset-view")
    view.wait_for()
    strip = page.get_by_test_id("scene-strip")
    strip.locator("img").first.wait_for(timeout=10_000)
    assert strip.locator("[data-testid=scene]").count() == 3
    page.screenshot(path=OUT / "browser-3-asset.png")


def test_what_the_picture_model_saw_is_shown_and_a_label_click_finds_the_shot(server, page):
    """A video of real photographs, ingested and enriched over HTTP: the asset page shows the
    labels per shot with their times, and clicking one searches for it. A query naming nothing the
    model knows gets a notice, not picture noise."""
    from conftest import AUTH, wait_for_job
    from test_vision import SHOT_SECONDS, photo_video, photos

    c = server["client"]
    folder = server["root"] / "photos"
    folder.mkdir()
    video = photo_video(folder / "stills_reel.mp4", photos())
    accepted = c.post("/ingest", json={"paths": [str(folder)]}, headers=AUTH)
    assert accepted.status_code == 202, accepted.text
    assert wait_for_job(c, accepted.json()["job"])["status"] == "done"

    unknown = c.get("/search", params={"q": "astronaut"}).json()
    assert "astronaut" in unknown["notice"]
    assert not [h for h in unknown["hits"] if h["why"].startswith("pictures")]
    cat = c.get("/search", params={"q": "a cat"}).json()
    assert cat["notice"] is None and cat["hits"][0]["path"] == str(video) and cat["hits"][0]["start"] < SHOT_SECONDS

    asset_id = cat["hits"][0]["asset_id"]
    c.post("/enrich", json={"assets": [asset_id]}, headers=AUTH).raise_for_status()
    page.goto(f"/#/asset/{asset_id}")
    rows = page.get_by_test_id("shot-label-row")
    rows.first.wait_for(timeout=30_000)
    assert rows.count() >= 3
    assert "cat" in page.get_by_test_id("asset-labels").inner_text()
    page.screenshot(path=OUT / "browser-4-labels.png")

    rows.first.get_by_role("button", name="cat", exact=True).click()  # the first shot's "cat" chip
    first = page.locator('[data-testid="result-card"].hit').first
    first.wait_for(timeout=30_000)
    assert page.get_by_test_id("search-input").input_value() == "cat"
    assert "stills_reel.mp4" in first.inner_text()
