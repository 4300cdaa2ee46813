# The reference LeNet in PyTorch, shared by the fixture script (scripts/make_torch_fixtures.py)
# and the bench:compare peer (bench/torch_peer.py), so both measure and check the same network:
# conv 5x5x20 'same' + ReLU -> maxpool 2 -> conv 5x5x50 + ReLU -> maxpool 2 -> 1250 -> 500 -> 10.
import torch
import torch.nn as nn
import torch.nn.functional as F


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 20, 5, padding=2)
        self.conv2 = nn.Conv2d(20, 50, 5)
        self.fc1 = nn.Linear(1250, 500)
        self.fc2 = nn.Linear(500, 10)

    def features(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return torch.flatten(x, 1)  # (N, 50*5*5) in C,H,W order

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(self.features(x))))
