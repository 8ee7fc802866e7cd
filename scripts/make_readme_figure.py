"""Draw the README's and the landing page's figure: gradient descent at three learning rates
against the gradient flow.

Run from the repository root with the venv active:  python scripts/make_readme_figure.py

It writes ``docs/readme-figure.png`` (for the README on GitHub) and
``docs/landing-figure.svg`` (shown on the book's landing page, ``intro.md``), both at
the book's column width.  The drawing is deterministic (no dates, fixed SVG ids), and
``tests/test_reader_pages.py`` checks that the committed SVG is what this script draws.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from lrtheory import flows, problems  # noqa: E402
from lrtheory.plotting import book_style, subplots  # noqa: E402

DOCS = Path(__file__).resolve().parents[1] / "docs"
PNG = DOCS / "readme-figure.png"
SVG = DOCS / "landing-figure.svg"


def draw() -> matplotlib.figure.Figure:
    """The figure, in the book's style (the caller closes it)."""
    lam = np.array([1.0, 10.0])
    q = problems.quadratic(np.diag(lam))
    theta0 = np.array([-2.0, 1.0])
    t_final = 3.0
    flow = flows.gradient_flow(q.grad, theta0, t_final, t_eval=np.linspace(0, t_final, 400))
    xs = np.linspace(-2.3, 0.6, 120)
    ys = np.linspace(-1.3, 1.3, 120)
    X, Y = np.meshgrid(xs, ys)
    Z = q.loss(np.stack([X, Y], axis=-1))
    fig, ax = subplots(height=4.2)
    ax.contour(X, Y, Z, levels=14, colors="#bbbbbb", linewidths=0.7)
    ax.plot(flow.theta[:, 0], flow.theta[:, 1], color="black", lw=2.2, label="gradient flow (exact)")
    edge = 2 / lam.max()
    for i, lr in enumerate([0.02, 0.15, 0.205]):
        it = flows.gd_iterates(q.grad, theta0, lr, int(round(t_final / lr)))
        tag = "above the stability edge" if lr > edge else "below the stability edge"
        ax.plot(it[:, 0], it[:, 1], "o-", ms=3, lw=1, label=f"GD, lr = {lr} ({tag})", zorder=3 - i)
    ax.set_xlabel(r"$\theta_1$ (curvature 1)")
    ax.set_ylabel(r"$\theta_2$ (curvature 10)")
    ax.set_title(r"$L(\theta)=\frac{1}{2}(\theta_1^2+10\,\theta_2^2)$; stability edge $2/\lambda_{\max}=0.2$")
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    fig.legend(loc="outside lower center", ncol=2)
    return fig


def render_svg() -> str:
    """The landing page's SVG, as text (what ``main`` writes to ``docs/landing-figure.svg``)."""
    with book_style():
        fig = draw()
        try:
            buf = io.StringIO()
            fig.savefig(buf, format="svg", metadata={"Date": None})
        finally:
            plt.close(fig)
    return buf.getvalue()


def main() -> None:
    DOCS.mkdir(exist_ok=True)
    SVG.write_text(render_svg(), encoding="utf-8")
    with book_style():
        fig = draw()
        fig.savefig(PNG, metadata={"Software": None})  # the style's savefig.dpi: 2x the displayed size
        plt.close(fig)
    print(f"wrote {SVG} and {PNG}")


if __name__ == "__main__":
    main()
