"""The seed blog post's section-5 code listing ("项目实践：代码实例和详细解释说明"), verbatim.

Kept byte for byte, Chinese comments and trailing spaces included, so the notebooks
can show it, `compile()` it (it is valid Python) and try to run it (it is not
runnable: `ResidualBlock`, `num_epochs`, `n_critic`, `train_loader` and
`low_res_imgs` are never defined). `srlib.models.blog` rebuilds its networks.
`SEED_DESCRIPTION` is the paragraph the post puts right after the listing, verbatim.
"""

SEED_LISTING = """import torch
import torch.nn as nn
import torch.optim as optim
from torchvision.models import vgg19
from torchvision.transforms import Resize

# 定义生成器网络
class Generator(nn.Module):
    def __init__(self, scale_factor):
        super(Generator, self).__init__()
        
        # 使用残差块进行特征提取和上采样
        self.features = nn.Sequential(
            ResidualBlock(64, 64),
            ResidualBlock(64, 64),
            ResidualBlock(64, 64),
            ResidualBlock(64, 64),
            nn.Conv2d(64, 64 * scale_factor ** 2, kernel_size=3, stride=1, padding=1),
            nn.PixelShuffle(scale_factor),
            nn.Conv2d(64, 3, kernel_size=3, stride=1, padding=1),
            nn.Tanh()
        )

    def forward(self, x):
        return self.features(x)

# 定义判别器网络  
class Discriminator(nn.Module):
    def __init__(self):
        super(Discriminator, self).__init__()
        
        # 使用卷积和全连接层进行特征提取和二分类
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(64, 64, kernel_size=3, stride=2, padding=1),
            nn.BatchNorm2d(64),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(64, 128, kernel_size=3, stride=1, padding=1),
            nn.BatchNorm2d(128),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(128, 128, kernel_size=3, stride=2, padding=1),
            nn.BatchNorm2d(128),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(128, 256, kernel_size=3, stride=1, padding=1),
            nn.BatchNorm2d(256),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, stride=2, padding=1),
            nn.BatchNorm2d(256),
            nn.LeakyReLU(0.2, inplace=True),
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(256, 1, kernel_size=1, stride=1, padding=0),
            nn.Sigmoid()
        )

    def forward(self, x):
        return self.features(x)

# 定义损失函数和优化器
criterion = nn.BCELoss()
generator = Generator(scale_factor=4)
discriminator = Discriminator()
g_optimizer = optim.Adam(generator.parameters(), lr=0.0001)
d_optimizer = optim.Adam(discriminator.parameters(), lr=0.0001)

# 训练过程
for epoch in range(num_epochs):
    # 训练判别器
    for _ in range(n_critic):
        real_imgs = next(iter(train_loader))
        real_labels = torch.ones((real_imgs.size(0), 1, 1, 1))
        fake_imgs = generator(low_res_imgs)
        fake_labels = torch.zeros((fake_imgs.size(0), 1, 1, 1))

        d_loss_real = criterion(discriminator(real_imgs), real_labels)
        d_loss_fake = criterion(discriminator(fake_imgs.detach()), fake_labels)
        d_loss = d_loss_real + d_loss_fake
        d_optimizer.zero_grad()
        d_loss.backward()
        d_optimizer.step()

    # 训练生成器
    fake_imgs = generator(low_res_imgs)
    g_loss = criterion(discriminator(fake_imgs), real_labels)
    g_optimizer.zero_grad()
    g_loss.backward()
    g_optimizer.step()
"""

SEED_DESCRIPTION = '这个代码实现了一个基于GAN的超分辨率图像生成模型。其中,生成器网络G使用了残差块进行特征提取和上采样,输入为低分辨率图像,输出为高分辨率图像。判别器网络D则使用卷积和全连接层进行特征提取和二分类,判断输入图像是否为真实高分辨率图像。'
