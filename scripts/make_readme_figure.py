"""Draw the README's figure: gradient descent at three learning rates against the gradient flow.

Run from the repository root with the venv active:  python scripts/make_readme_figure.py
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from lrtheory import flows, problems  # noqa: E402
from lrtheory.plotting import book_style, subplots  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "docs" / "readme-figure.png"


def main() -> None:
    lam = np.array([1.0, 10.0])
    q = problems.quadratic(np.diag(lam))
    theta0 = np.array([-2.0, 1.0])
    t_final = 3.0
    flow = flows.gradient_flow(q.grad, theta0, t_final, t_eval=np.linspace(0, t_final, 400))
    xs = np.linspace(-2.3, 0.6, 200)
    ys = np.linspace(-1.3, 1.3, 200)
    X, Y = np.meshgrid(xs, ys)
    Z = q.loss(np.stack([X, Y], axis=-1))
    with book_style():
        fig, ax = subplots(width=7.0, height=4.2)
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
        OUT.parent.mkdir(exist_ok=True)
        fig.savefig(OUT, dpi=110)
        plt.close(fig)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
