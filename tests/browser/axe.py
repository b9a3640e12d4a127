"""axe-core in the test browser: the engine ships with the tests (tests/browser/vendor, MPL-2.0,
from the npm package axe-core), nothing is fetched. It is evaluated through the DevTools
protocol, which the page's Content-Security-Policy does not apply to."""

from pathlib import Path

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
BLOCKING = ("serious", "critical")


async def axe_violations(page, *, exclude=()) -> list[dict]:
    """The serious and critical violations of the page as it is now (WCAG 2.x A and AA)."""
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        await page.evaluate(AXE.read_text(encoding="utf-8"))
    results = await page.evaluate(
        """async (exclude) => {
            const context = exclude.length ? { include: [document], exclude: exclude.map((s) => [s]) } : document;
            return await axe.run(context, { resultTypes: ["violations"],
              runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
        }""", list(exclude))
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [node["target"] for node in v["nodes"][:5]]}
        for v in results["violations"] if v["impact"] in BLOCKING
    ]
