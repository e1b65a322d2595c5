"""Reuse a pretrained processor inside your own PyTorch model (the NAR blueprint).

Routing with unknown travel times: every road carries raw features (length, class, lanes, speed limit,
noisy congestion readings, distractors); the target is the shortest-path tree under hidden true times.
A frozen, pretrained Bellman-Ford processor sits between a learned encoder and a pointer decoder.

    python examples/07_blueprint.py                  # 32 training graphs, 300 steps, test at n = 64
    python examples/07_blueprint.py --from-scratch   # the same model with an untrained processor
    python examples/07_blueprint.py --tiny           # seconds
"""
import argparse

import torch
from torch import nn

import nar
from nar.tasks import routing

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--from-scratch", action="store_true", help="a fresh, trainable processor instead")
ap.add_argument("--tiny", action="store_true")
args = ap.parse_args()
steps, test_n, test_count = (5, 16, 8) if args.tiny else (300, 64, 32)
torch.manual_seed(0)
train, test = routing.make_dataset(32, n=16, seed=0), routing.make_dataset(test_count, n=test_n, seed=1)


class Router(nn.Module):
    def __init__(self, H=128):
        super().__init__()
        self.node_enc = nn.Linear(routing.NODE_DIM, H)
        self.edge_enc = nn.Sequential(nn.Linear(routing.EDGE_DIM, H), nn.ReLU(), nn.Linear(H, H))
        proc = (nar.models.build_processor("triplet_gmpnn", H) if args.from_scratch
                else nar.pretrained.load("triplet_gmpnn-bellman_ford").processor)
        self.core = nar.blueprint.ProcessorModule(proc, H, frozen=not args.from_scratch)
        self.src, self.dst, self.e = nn.Linear(self.core.out_dim, H), nn.Linear(self.core.out_dim, H), nn.Linear(H, H)
        self.score = nn.Linear(H, 1)

    def forward(self, b):  # logits[b, i, j]: is i the parent of j?
        e = self.edge_enc(b.edge) * b.adj[..., None]
        steps = routing.processor_steps(b)  # from the graph alone: 2 x source eccentricity + 1
        z = self.core(node=self.node_enc(b.node), edge=e, adj=b.adj, node_mask=b.node_mask, steps=steps).node
        h = torch.relu(self.src(z)[:, :, None] + self.dst(z)[:, None] + self.e(e))
        return self.score(h).squeeze(-1).masked_fill(~(b.adj | torch.eye(b.adj.shape[1], dtype=torch.bool)), -1e9)


model = Router()
opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
for step in range(steps):
    batch = train[torch.randint(len(train), (8,))]
    loss = nn.functional.cross_entropy(model(batch), batch.parent)  # classes: the candidate parents i
    opt.zero_grad(), loss.backward(), opt.step()
with torch.no_grad():
    m = routing.metrics(model(test).argmax(1), test)
print(f"{'from scratch' if args.from_scratch else 'pretrained, frozen'}: test at n = {test_n}: parent accuracy "
      f"{m['parent_accuracy']:.3f}, route-cost ratio {m['cost_ratio']:.3f}")
